import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { Logger, type DynamicModule, type INestApplicationContext, type LogLevel, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AdapterLoadError } from '#libs/adapter-sdk';
import { BusExceptionFilter, BusModule, createBusServer, JetStreamDurableStreams, type BusTransport, type DurableStreams } from '#libs/bus';
import { ConfigError, ConfigModule, loadConfig, type AppConfig } from '#libs/config';
import { DatabaseModule, openServiceDatabase, type ServiceDatabaseOptions } from '#libs/db';

/** What every service needs to start, whichever mode it runs in. */
export interface ServiceRuntime {
  config: Readonly<AppConfig>;
  transport: BusTransport;
  databaseUrl: string;
  /** Present for services that publish or consume durable messages. */
  durable: DurableStreams;
}

/** A started service: closing it stops its bus handlers and its database pool. */
export interface RunningService {
  name: string;
  /** Lines to show the operator once the service is up (URLs, a key shown once). */
  banner?: string[];
  close(): Promise<void>;
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

export function logLevels(config: Readonly<AppConfig>): LogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(config.logLevel) + 1);
}

/** Starts a bus-only service (no HTTP): its handlers answer on the bus, errors cross it as {code, message}. */
export async function startBusService(name: string, module: DynamicModule | Type, runtime: ServiceRuntime): Promise<RunningService> {
  const app = await NestFactory.createMicroservice(module, {
    strategy: createBusServer(runtime.transport),
    logger: logLevels(runtime.config),
    bufferLogs: false,
  });
  app.useGlobalFilters(new BusExceptionFilter());
  await app.listen();
  return { name, close: () => app.close() };
}

/** A service's NATS transport from the config: servers, subject namespace, its own user. */
export function natsTransport(config: Readonly<AppConfig>, name: string): Extract<BusTransport, { kind: 'nats' }> {
  if (!config.natsUrl) throw new Error('NATS_URL is not set');
  return {
    kind: 'nats',
    servers: config.natsUrl.split(','),
    name,
    namespace: config.busNamespace,
    ...(config.natsUser ? { user: config.natsUser, pass: config.natsPassword } : {}),
  };
}

/**
 * The entry point of one service run alone (`npm run start:<app>`): reads the config, connects to
 * NATS and JetStream, starts, and stops cleanly on SIGTERM/SIGINT.
 */
export async function runStandalone(
  name: string,
  start: (runtime: ServiceRuntime) => Promise<RunningService>,
  options: { niceness?: (config: Readonly<AppConfig>) => number } = {},
): Promise<void> {
  const logger = new Logger(name);
  let config: Readonly<AppConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  if (!config.databaseUrl || !config.natsUrl) {
    process.stderr.write(`Invalid configuration:\n  - ${name} run alone needs DATABASE_URL and NATS_URL (npm start runs everything embedded)\n`);
    process.exit(78);
  }
  const niceness = options.niceness?.(config) ?? 0;
  if (niceness > 0) {
    lowerPriority(niceness);
    logger.log(`runs at niceness ${niceness}: requests on this host come first`);
  }
  const transport = natsTransport(config, name);
  const durable = await JetStreamDurableStreams.connect(transport);
  let service: RunningService;
  try {
    service = await start({ config, transport, databaseUrl: config.databaseUrl, durable });
  } catch (err) {
    process.stderr.write(`${name} could not start: ${describeStartFailure(err)}\n`);
    await durable.close().catch(() => undefined);
    process.exit(1);
  }
  logger.log(`${name} started (NATS ${transport.servers.join(',')})`);
  if (service.banner?.length) process.stdout.write(`\n${service.banner.join('\n')}\n\n`);
  const stop = async (signal: string): Promise<void> => {
    logger.log(`${signal}: stopping`);
    await service.close();
    await durable.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/**
 * Why a start failed, for the operator: an error the operator can fix by configuration (a plugin
 * that does not load) as its message alone, anything else with its stack.
 */
export function describeStartFailure(err: unknown): string {
  if (err instanceof AdapterLoadError) return err.message;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/**
 * Gives this whole process a lower CPU priority. On Linux a niceness belongs to each thread, and
 * V8's and libuv's threads exist already, so each one in /proc/self/task is set; threads started
 * later inherit it.
 */
export function lowerPriority(niceness: number): void {
  let threads: string[];
  try {
    threads = readdirSync('/proc/self/task');
  } catch {
    setPriority(niceness); // not Linux: the process
    return;
  }
  for (const tid of threads) {
    try {
      setPriority(Number(tid), niceness);
    } catch {
      // a thread that ended meanwhile
    }
  }
}

export type { INestApplicationContext };

/** A service's own Postgres schema and what lives in it. */
export type ServiceSchema = Omit<ServiceDatabaseOptions, 'url'>;

/**
 * What every service module imports: its config, the bus (with the durable streams), and its own
 * database schema, opened and migrated before the module is built.
 */
export async function serviceInfrastructure(runtime: ServiceRuntime, schema: ServiceSchema): Promise<DynamicModule[]> {
  const dataSource = await openServiceDatabase({ url: runtime.databaseUrl, ...schema });
  return [
    ConfigModule.forRoot(runtime.config),
    BusModule.forRoot(runtime.transport, { requestTimeoutMs: runtime.config.busRequestTimeoutMs }, runtime.durable),
    DatabaseModule.forDataSource(dataSource),
  ];
}
