import pg from 'pg';
import { BusClient, InProcessBroker, InProcessDurableStreams, JetStreamDurableStreams, createBusClientProxy, type BusTransport, type DurableStreams } from '#libs/bus';
import { loadConfig } from '#libs/config';
import type { CommandEnvelope, Events, EventSubject, TenantScope } from '#libs/contracts';
import type { RunningService, ServiceRuntime } from '#libs/runtime';

/**
 * Medium tests: one service against a real Postgres (a fresh database per test file) and a real bus
 * (NATS when TEST_NATS_URL is set, else the in-process broker that serialises like NATS).
 */
export interface ServiceHarness {
  runtime: ServiceRuntime;
  bus: BusClient;
  databaseUrl: string;
  /** Events seen on the bus since the harness started, by subject. */
  events: { subject: EventSubject; payload: unknown }[];
  start(start: (runtime: ServiceRuntime) => Promise<RunningService>): Promise<RunningService>;
  close(): Promise<void>;
}

export const TEST_SCOPE: TenantScope = { organisationId: 'default', projectId: null };

export function envelope<T>(input: T, scope: TenantScope = TEST_SCOPE): CommandEnvelope<T> {
  return { scope, actor: { keyId: 'key_test', name: 'test' }, input };
}

function databaseUrlFor(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function createServiceHarness(name: string, env: Record<string, string> = {}): Promise<ServiceHarness> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set (the unit global setup starts an embedded Postgres)');
  const database = `t_${name.replace(/[^a-z0-9_]/gi, '_')}_${process.pid}`.toLowerCase();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const databaseUrl = databaseUrlFor(adminUrl, database);

  const natsUrl = process.env.TEST_NATS_URL;
  let transport: BusTransport;
  let durable: DurableStreams;
  // Each test file gets its own subject namespace (and JetStream stream) on the shared NATS server.
  const namespace = `t${process.pid}_${name.replace(/[^a-z0-9]/gi, '').toLowerCase()}`.slice(0, 32);
  if (natsUrl) {
    const nats = { kind: 'nats' as const, servers: [natsUrl], name: `test-${name}`, namespace };
    transport = nats;
    durable = await JetStreamDurableStreams.connect(nats);
  } else {
    transport = { kind: 'in-process', broker: new InProcessBroker(), name: `test-${name}` };
    durable = new InProcessDurableStreams();
  }
  const config = loadConfig({ DATABASE_URL: databaseUrl, NATS_URL: natsUrl ?? 'nats://127.0.0.1:4222', BUS_NAMESPACE: natsUrl ? namespace : '', LOG_LEVEL: 'warn', ...env });
  const runtime: ServiceRuntime = { config, transport, databaseUrl, durable };
  const bus = new BusClient(createBusClientProxy(transport), { requestTimeoutMs: 5000 });
  await bus.connect();

  const events: ServiceHarness['events'] = [];
  const listener = createBusClientProxy(transport);
  const nc = (await listener.connect()) as { subscribe(subject: string, opts: { callback: (err: unknown, msg: { subject: string; json(): unknown }) => void }): unknown };
  nc.subscribe('*.v1.events.>', {
    callback: (_err, msg) =>
      events.push({ subject: msg.subject.slice(natsUrl ? namespace.length + 1 : 0) as EventSubject, payload: (msg.json() as { data: unknown }).data }),
  });

  const started: RunningService[] = [];
  return {
    runtime,
    bus,
    databaseUrl,
    events,
    async start(start) {
      const service = await start(runtime);
      started.push(service);
      return service;
    },
    async close() {
      for (const s of started.reverse()) await s.close();
      await bus.onApplicationShutdown();
      await listener.close();
      if (durable instanceof JetStreamDurableStreams) await durable.deleteStream();
      await durable.close();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** Waits until `predicate` holds, polling; fails with `what` after timeoutMs. */
export async function eventually<T>(probe: () => T | Promise<T>, predicate: (value: T) => boolean, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await probe();
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  } while (Date.now() < deadline);
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

export type { Events };
