import type http from 'node:http';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AdapterRegistry } from '#libs/adapter-sdk';
import { loadAdapterRegistry } from '#libs/adapters';
import { createBusServer } from '#libs/bus';
import { APP_CONFIG, ProcessEnvironment, type AppConfig } from '#libs/config';
import { AuditLog, AuditLogRowEntity } from '#libs/db';
import { Clock, logLevels, type RunningService, serviceInfrastructure, type ServiceRuntime } from '#libs/runtime';
import { HostResolver, SystemHostResolver, UpstreamAddressPolicy } from '#libs/upstream-guard';
import { ConnectionsController } from './admin/connections.controller.js';
import { ModelDefinitionsController } from './admin/model-definitions.controller.js';
import { ModelRewriteRulesController } from './admin/model-rewrite-rules.controller.js';
import { ProviderModelsController } from './admin/provider-models.controller.js';
import { UsageController } from './admin/usage.controller.js';
import { AdminAuthGuard } from './auth/admin-auth.guard.js';
import { buildV1OpenApi, mergeV1IntoDocument } from './docs/v1-openapi.js';
import { createEdgeServer } from './edge/edge-server.js';
import { boundedJsonParser, jsonLimitsOf } from './edge/json-body.js';
import { mintRequestId } from './edge/request-id.js';
import { AdminExceptionFilter } from './errors/admin-exception.filter.js';
import { createValidationPipe } from './errors/validation.pipe.js';
import { HealthController } from './health/health.controller.js';
import { GatewayAddress } from './playground/gateway-address.js';
import { PlaygroundController } from './playground/playground.controller.js';
import { PlaygroundStreamEventsHandler, PlaygroundStreams } from './playground/playground-streams.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { ApiKeyEntity } from './keys/api-key.entity.js';
import { ApiKeysRepository } from './keys/api-keys.repository.js';
import { ApiKeysService } from './keys/api-keys.service.js';
import { GatewayKeysController } from './keys/gateway-keys.controller.js';
import { Initial1732350000000 } from './migrations/1732350000000-initial.js';
import { GatewayAuditLog1733560000000 } from './migrations/1733560000000-audit-log.js';
import { DelegationKeys1796700000000 } from './migrations/1796700000000-delegation-keys.js';
import { DelegatedTokens } from './delegation/delegated-tokens.js';
import { DelegationsHandler } from './delegation/delegations.handler.js';
import { DatasetsController } from './evaluations/datasets.controller.js';
import { EvaluationsController } from './evaluations/evaluations.controller.js';
import { OpenAIRequestValidator } from './proxy/openai-request-validator.js';
import { UpstreamPools } from './proxy/upstream-pools.js';
import { AnthropicRequestValidator } from './v1/anthropic-request-validator.js';
import { ChatCompletionsEndpoint } from './v1/chat-completions.endpoint.js';
import { CompletionsEndpoint } from './v1/completions.endpoint.js';
import { CountTokensHandler } from './v1/count-tokens.handler.js';
import { EmbeddingsEndpoint } from './v1/embeddings.endpoint.js';
import { GenerationCall } from './v1/generation-call.js';
import { ResponseCacheService } from './cache/response-cache.service.js';
import { MessagesEndpoint } from './v1/messages.endpoint.js';
import { UpstreamCallService } from './v1/upstream-call.service.js';
import { VaultController } from './admin/vault.controller.js';
import { AuditLogController } from './admin/audit-log.controller.js';
import { ConfigController } from './admin/config.controller.js';
import { AuditLogQueryService } from './audit/audit-log-query.service.js';
import { ConnectionPolicies } from './policy/connection-policies.js';
import { TargetCircuits } from './policy/target-circuits.js';
import { RateLimitLeasesRepository } from './limits/rate-limit-leases.repository.js';
import { RateLimitsService } from './limits/rate-limits.service.js';
import { RateLimitWindows1765100000000 } from './migrations/1765100000000-rate-limit-windows.js';
import { KeyRateLimits1765100000001 } from './migrations/1765100000001-key-rate-limits.js';
import { KeyExpiryAndModels1765100000002 } from './migrations/1765100000002-key-expiry-and-models.js';
import { KeyResponseCache1765100000060 } from './migrations/1765100000060-key-response-cache.js';
import { KeyOwnerAndBudget1765100000003 } from './migrations/1765100000003-key-owner-and-budget.js';
import { KeyBudgetAlerts1765100000004 } from './migrations/1765100000004-key-budget-alerts.js';
import { BudgetAlerts } from './budgets/budget-alerts.js';
import { KeySpendHandler } from './budgets/key-spend.handler.js';
import { KeySpendLedger } from './budgets/key-spend-ledger.js';
import { ConnectionTestService, MonotonicClock } from './connection-test/connection-test.service.js';
import { V1FrontDoor } from './v1/v1-front-door.js';
import { TracesIntake } from './traces/traces-intake.js';
import { V1Routes } from './v1/v1-routes.js';
import { ChangeEventsHandler } from './read-model/change-events.handler.js';
import { ReadModelService } from './read-model/read-model.service.js';
import { GatewayTracer } from './telemetry/gateway-tracer.js';

export const GATEWAY_SCHEMA = 'gateway';

@Module({})
export class GatewayModule {
  static async forRuntime(runtime: ServiceRuntime): Promise<DynamicModule> {
    // Plugins first: one that fails to load stops the start before the database is touched.
    const adapters = await loadAdapterRegistry(runtime.config);
    const infrastructure = await serviceInfrastructure(runtime, {
      schema: GATEWAY_SCHEMA,
      entities: [ApiKeyEntity, AuditLogRowEntity],
      migrations: [Initial1732350000000, GatewayAuditLog1733560000000, RateLimitWindows1765100000000, KeyRateLimits1765100000001, KeyExpiryAndModels1765100000002, KeyOwnerAndBudget1765100000003, KeyBudgetAlerts1765100000004, KeyResponseCache1765100000060, DelegationKeys1796700000000],
    });
    return {
      module: GatewayModule,
      imports: infrastructure,
      controllers: [
        ConnectionsController,
        VaultController,
        AuditLogController,
        ConfigController,
        ProviderModelsController,
        ModelRewriteRulesController,
        ModelDefinitionsController,
        GatewayKeysController,
        KeySpendHandler,
        UsageController,
        PlaygroundController,
        DatasetsController,
        EvaluationsController,
        DelegationsHandler,
        PlaygroundStreamEventsHandler,
        HealthController,
        MetricsController,
        ChangeEventsHandler,
      ],
      providers: [
        ApiKeysRepository,
        ApiKeysService,
        AuditLog,
        ReadModelService,
        AdminAuthGuard,
        { provide: UpstreamAddressPolicy, useFactory: (config: AppConfig) => UpstreamAddressPolicy.fromAllowList(config.upstreamAllowlist), inject: [APP_CONFIG] },
        { provide: HostResolver, useClass: SystemHostResolver },
        UpstreamPools,
        { provide: AdapterRegistry, useValue: adapters },
        { provide: ProcessEnvironment, useValue: new ProcessEnvironment() },
        GatewayTracer,
        OpenAIRequestValidator,
        AnthropicRequestValidator,
        UpstreamCallService,
        AuditLogQueryService,
        ConnectionPolicies,
        TargetCircuits,
        RateLimitLeasesRepository,
        RateLimitsService,
        Clock,
        KeySpendLedger,
        BudgetAlerts,
        ConnectionTestService,
        MonotonicClock,
        GenerationCall,
        ResponseCacheService,
        ChatCompletionsEndpoint,
        CompletionsEndpoint,
        EmbeddingsEndpoint,
        MessagesEndpoint,
        CountTokensHandler,
        V1Routes,
        V1FrontDoor,
        TracesIntake,
        GatewayAddress,
        DelegatedTokens,
        PlaygroundStreams,
      ],
    };
  }
}

export interface RunningGateway extends RunningService {
  url: string;
  /** Waits until every span ended so far has been handed to the durable bus. */
  flushTelemetry(): Promise<void>;
}

/** Starts the HTTP edge: /v1 (OpenAI-compatible), /admin, /docs, /health. */
export async function startGateway(runtime: ServiceRuntime): Promise<RunningGateway> {
  const { config } = runtime;
  // The hot /v1 calls are answered from node:http before Fastify routes them (V1FrontDoor).
  let frontDoor: V1FrontDoor | undefined;
  let tracesIntake: TracesIntake | undefined;
  // Timeouts and per-client bounds apply to every route, before either of them sees the request.
  const serverFactory = (fastifyHandler: http.RequestListener): http.Server =>
    createEdgeServer(config, (req, res) => {
      if (frontDoor?.serve(req, res)) return;
      if (tracesIntake?.serve(req, res)) return;
      fastifyHandler(req, res);
    });
  const app = await NestFactory.create<NestFastifyApplication>(
    await GatewayModule.forRuntime(runtime),
    // Request ids name a request in the logs of every replica (a UUID, not a per-process counter),
    // minted by the gateway: a client's x-request-id could collide with or impersonate another
    // request's, so it is kept only in the log (the onRequest hook below), never as the id.
    // Every Fastify route reads at most ADMIN_MAX_BODY_BYTES; /v1 raises its own (V1Routes).
    new FastifyAdapter({ bodyLimit: config.adminMaxBodyBytes, requestIdHeader: false, genReqId: mintRequestId, serverFactory }),
    { logger: logLevels(config), bufferLogs: false },
  );
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    const clientId = request.headers['x-request-id'];
    if (typeof clientId === 'string' && clientId.length > 0) request.log = request.log.child({ clientRequestId: clientId.slice(0, 200) });
    done();
  });
  // JSON bodies are bounded on their bytes before they are parsed (a body nested 10,000 deep
  // used to crash the validation pipe with a stack overflow).
  const jsonParser = boundedJsonParser(fastify.getDefaultJsonParser('error', 'error'), jsonLimitsOf(config));
  app.useBodyParser('application/json', { bodyLimit: config.adminMaxBodyBytes }, jsonParser);
  app.connectMicroservice({ strategy: createBusServer(runtime.transport) }, { inheritAppConfig: false });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AdminExceptionFilter());
  app.get(V1Routes).register(fastify, jsonParser);
  frontDoor = app.get(V1FrontDoor);
  tracesIntake = app.get(TracesIntake);

  // OpenAPI 3.1: the /v1 schemas are OpenAI's published JSON Schemas (null unions), which 3.0 cannot hold.
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setOpenAPIVersion('3.1.0')
      .setTitle('LLM Gateway')
      .setDescription('The self-hosted LLM gateway: the OpenAI- and Anthropic-compatible LLM API under /v1 (a gateway key), the admin API under /admin (an admin key).')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An admin gateway key (sk-gw-...)' })
      .build(),
  );
  // The /v1 routes live outside Nest's controllers (V1FrontDoor, V1Routes), so the scan cannot see them.
  mergeV1IntoDocument(document, buildV1OpenApi());
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });

  // Subscribe to change events before the first load, so no change falls between load and subscribe.
  await app.startAllMicroservices();
  const bootstrap = await app.get(ApiKeysService).ensureBootstrapAdminKey();
  const readModel = app.get(ReadModelService);
  readModel.onChange((part) => {
    if (part !== 'connections') return;
    // A connection whose endpoint comes from its settings (a region) has no baseUrl: its pools are
    // not kept here (a closed pool lets its in-flight requests finish; the next call opens another).
    const origins = [...readModel.allConnections()].flatMap((c) => (URL.canParse(c.baseUrl) ? [new URL(c.baseUrl).origin] : []));
    app.get(UpstreamPools).retainOnly(new Set(origins));
  });
  const loading = readModel.start();
  // In the background: metering may start after the gateway (embedded mode starts it later).
  void app.get(KeySpendLedger).start();
  if (config.embedded) await loading; // everything is in-process: be ready before saying so

  await app.listen({ port: config.port, host: config.host });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${shownHost}:${port}`;
  app.get(GatewayAddress).set(url);
  const tracer = app.get(GatewayTracer);
  const banner = [`Gateway:  ${url}`, `API docs: ${url}/docs`];
  if (bootstrap.generatedKey) {
    banner.push(
      '',
      'Bootstrap admin key (shown once; only its hash is stored):',
      `  ${bootstrap.generatedKey}`,
      `Use it as: curl -H "Authorization: Bearer ${bootstrap.generatedKey}" ${url}/admin/connections`,
    );
  }
  return {
    name: 'gateway',
    url,
    banner,
    flushTelemetry: () => tracer.flush(),
    close: () => app.close(),
  };
}
