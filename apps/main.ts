/**
 * `npm start`: the whole product in one process. The composition root (not a service): with no
 * DATABASE_URL/NATS_URL it runs embedded, on a Postgres it starts itself under DATA_DIR and an
 * in-process bus that serialises every message as NATS would; with both set it runs all five
 * services in this one process against them.
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { InProcessBroker, InProcessDurableStreams, JetStreamDurableStreams, type BusTransport, type DurableStreams } from '#libs/bus';
import { ConfigError, loadConfig, type AppConfig } from '#libs/config';
import { EmbeddedPostgresServer } from '#libs/db';
import { describeStartFailure, logLevels, natsTransport, type RunningService, type ServiceRuntime } from '#libs/runtime';
import { startCredentialVault } from './credential-vault/src/credential-vault.module.js';
import { startEvaluator } from './evaluator/src/evaluator.module.js';
import { startGateway } from './gateway/src/gateway.module.js';
import { startModelRegistry } from './model-registry/src/model-registry.module.js';
import { startUsageMetering } from './usage-metering/src/usage-metering.module.js';

const logger = new Logger('main');

function readConfig(): Readonly<AppConfig> {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  Logger.overrideLogger(logLevels(config));
  const started: RunningService[] = [];
  let postgres: EmbeddedPostgresServer | undefined;
  let durable: DurableStreams;
  let transportFor: (name: string) => BusTransport;
  let databaseUrl: string;

  if (config.embedded) {
    postgres = new EmbeddedPostgresServer({ dataDir: config.dataDir, port: config.embeddedPostgresPort });
    databaseUrl = await postgres.start();
    const broker = new InProcessBroker();
    durable = new InProcessDurableStreams();
    transportFor = (name) => ({ kind: 'in-process', broker, name });
  } else {
    databaseUrl = config.databaseUrl!;
    durable = await JetStreamDurableStreams.connect(natsTransport(config, 'all-in-one'));
    transportFor = (name) => natsTransport(config, name);
  }
  const runtime = (name: string): ServiceRuntime => ({ config, transport: transportFor(name), databaseUrl, durable });

  let stopping = false;
  const stop = async (reason: string, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log(`${reason}: stopping`);
    // The gateway first (it flushes its spans), then metering drains them, then the rest.
    for (const service of [...started].reverse()) {
      await service.close().catch((e: unknown) => logger.error(`closing ${service.name}: ${String(e)}`));
      if (service.name === 'gateway') await durable.close().catch(() => undefined);
    }
    await postgres?.stop().catch((e: unknown) => logger.error(`stopping Postgres: ${String(e)}`));
    process.exit(code);
  };
  process.once('SIGTERM', () => void stop('SIGTERM', 0));
  process.once('SIGINT', () => void stop('SIGINT', 0));

  try {
    started.push(await startCredentialVault(runtime('credential-vault')));
    started.push(await startModelRegistry(runtime('model-registry')));
    started.push(await startUsageMetering(runtime('usage-metering')));
    started.push(await startEvaluator(runtime('evaluator')));
    const gateway = await startGateway(runtime('gateway'));
    started.push(gateway);
    const mode = config.embedded ? `embedded (data in ${config.dataDir})` : 'all services in one process on DATABASE_URL and NATS_URL';
    process.stdout.write(`\nLLM gateway is up, ${mode}.\n${gateway.banner?.join('\n') ?? ''}\n\n`);
  } catch (err) {
    logger.error(`start failed: ${describeStartFailure(err)}`);
    await stop('start failed', 1);
  }
}

await main();
