import { Inject, Injectable } from '@nestjs/common';
import { AdapterRegistry } from '#libs/adapter-sdk';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { ProviderModelView } from '#libs/contracts';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { Principal } from '../auth/principal.js';
import type { JsonBodyParser } from '../edge/json-body.js';
import { ReadModelService } from '../read-model/read-model.service.js';
import { openAIErrorType } from './openai-response-writer.js';
import { mintRequestId } from '../edge/request-id.js';
import { bearerToken, expiredKeyMessage, isExpired, mayCall } from '../auth/principal.js';

function sendOpenAIError(reply: FastifyReply, status: number, message: string, code: string | null, param: string | null = null): void {
  const type = code === 'model_not_found' ? 'invalid_request_error' : openAIErrorType(status);
  void reply.status(status).header('content-type', 'application/json; charset=utf-8').send({ error: { message, type, param, code } });
}

/**
 * The /v1 routes that Fastify serves (GET /v1/models, /v1/models/{id}, and /v1's 404s), registered
 * straight on it (no Nest pipeline) in their own encapsulated context, so their errors answer in
 * OpenAI's format. The POSTs never reach Fastify: V1FrontDoor serves them from node:http.
 */
@Injectable()
export class V1Routes {
  constructor(
    private readonly readModel: ReadModelService,
    private readonly adapters: AdapterRegistry,
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
  ) {}

  /** @param jsonParser the gateway's bounded JSON parser (see edge/json-body.ts), used here with /v1's body limit */
  register(fastify: FastifyInstance, jsonParser: JsonBodyParser): void {
    void fastify.register(
      async (v1) => {
        // Every /v1 answer carries the gateway's own request id (Fastify's request.id is minted too, see main).
        v1.addHook('onRequest', (request, reply, done) => {
          void reply.header('x-request-id', request.id ?? mintRequestId());
          done();
        });
        // /v1 bodies (prompts with images) may be larger than /admin's: the same parser, /v1's limit.
        v1.removeContentTypeParser('application/json');
        v1.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: this.config.v1MaxBodyBytes }, jsonParser);
        v1.setErrorHandler((error: FastifyError, _request, reply) => {
          const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
          const message = status >= 500 ? 'internal error' : error.message;
          const code = status === 413 ? 'request_too_large' : (error.code ?? null);
          const param = status === 413 || code === 'json_limit_exceeded' ? 'body' : null;
          sendOpenAIError(reply, status, message, code, param);
        });
        v1.setNotFoundHandler((request, reply) => {
          sendOpenAIError(reply, 404, `Unknown request URL: ${request.method} ${request.url.split('?')[0]}.`, 'unknown_url');
        });
        v1.get('/models', (request, reply) => {
          const principal = this.principal(request.headers, reply);
          if (!principal) return;
          void reply.send({ object: 'list', data: this.callableModels(principal).map(modelObject) });
        });
        v1.get<{ Params: { id: string } }>('/models/*', (request, reply) => {
          const principal = this.principal(request.headers, reply);
          if (!principal) return;
          // Model names may contain slashes (org/model): the rest of the path is the id.
          const id = decodeURIComponent((request.params as Record<string, string>)['*'] ?? '');
          const model = this.callableModels(principal).find((m) => m.name === id);
          if (!model) {
            sendOpenAIError(reply, 404, `The model \`${id}\` does not exist or you do not have access to it.`, 'model_not_found', 'model');
            return;
          }
          void reply.send(modelObject(model));
        });
      },
      { prefix: '/v1' },
    );
  }

  private principal(headers: Record<string, string | string[] | undefined>, reply: FastifyReply): Principal | undefined {
    const token = bearerToken(headers);
    const principal = token ? this.readModel.principalForKey(token) : undefined;
    if (principal && isExpired(principal)) {
      sendOpenAIError(reply, 401, expiredKeyMessage(principal), 'key_expired');
      return undefined;
    }
    if (!principal) sendOpenAIError(reply, 401, token ? 'Incorrect API key provided.' : 'Missing API key: send Authorization: Bearer <gateway key>.', 'invalid_api_key');
    return principal;
  }

  /**
   * The active provider models this key may call and that a loaded adapter can serve: the same
   * resolution a call makes. `slug/model` names, rewrites and `name:params` forms are not listed
   * (they address models without naming them in the registry).
   */
  private callableModels(principal: Principal): ProviderModelView[] {
    const seen = new Set<string>();
    const out: ProviderModelView[] = [];
    for (const m of this.readModel.modelsFor(principal)) {
      if (seen.has(m.name) || !mayCall(principal, m.name)) continue;
      const route = this.readModel.route(principal, m.name);
      if (!route?.model || !route.targets.some((t) => this.adapters.getV2(t.connection.adapter))) continue;
      seen.add(m.name);
      out.push(route.model);
    }
    return out;
  }
}

function modelObject(m: ProviderModelView): { id: string; object: 'model'; created: number; owned_by: string } {
  return { id: m.name, object: 'model', created: Math.floor(Date.parse(m.createdAt) / 1000), owned_by: m.organisationId };
}
