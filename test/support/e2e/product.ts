import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { JetStreamDurableStreams } from '#libs/bus';

/**
 * Starts the built product (dist/) as a user would, for end-to-end tests and the benchmark:
 * embedded = `node dist/apps/main.js` (its own Postgres, in-process bus);
 * distributed = the five services as five processes on a real Postgres and NATS.
 */
export type ProductMode = 'embedded' | 'distributed';

export interface Product {
  mode: ProductMode;
  url: string;
  adminKey: string;
  /** Distributed mode: the database the services use (for assertions on stored rows). */
  databaseUrl?: string;
  /** Distributed mode: the services' NATS subject namespace (for assertions on stored stream messages). */
  busNamespace?: string;
  processes: ChildProcess[];
  /** The process serving the gateway's HTTP edge (the only process in embedded mode). */
  gatewayProcess: ChildProcess;
  /** Every gateway replica's base URL, `url` first (distributed mode with `gatewayReplicas` > 1; else just `url`). */
  gatewayUrls: string[];
  output(): string;
  stop(): Promise<void>;
  /** Distributed mode: stops one service's process (SIGTERM) and starts it again on the same database and bus. */
  restartService?(service: Exclude<ProductService, 'gateway'>): Promise<void>;
}

export interface ProductOptions {
  mode?: ProductMode;
  /** Environment of every product process; UPSTREAM_ALLOWLIST defaults to TEST_UPSTREAM_ALLOWLIST unless given here. */
  env?: Record<string, string>;
  /** Embedded: use (and keep) this data directory instead of a fresh temporary one. */
  dataDir?: string;
  /** The admin key of an earlier start on the same data: no bootstrap key is printed then. */
  adminKey?: string;
  /** Pin services to CPUs with taskset (benchmark). */
  cpus?: string;
  /** Distributed mode: pin the gateway alone to these CPUs (a taskset list); the other services follow `cpus`. */
  gatewayCpus?: string;
  /** Distributed mode: extra Node options for the gateway process only (e.g. `--cpu-prof`). */
  gatewayNodeArgs?: string[];
  /** Distributed mode: extra Node options for the other services, by service (e.g. `--cpu-prof` for usage-metering). */
  serviceNodeArgs?: Partial<Record<ProductService, string[]>>;
  startTimeoutMs?: number;
  /**
   * Distributed mode: this many gateway processes on the same database and bus (default 1), each
   * on its own port (Product.gatewayUrls). The others start once the first is ready, so its
   * migrations and bootstrap key are in place.
   */
  gatewayReplicas?: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root: test/support/e2e in sources, dist/test/support/e2e when built. */
const ROOT = path.resolve(here, here.includes(`${path.sep}dist${path.sep}test${path.sep}`) ? '../../../..' : '../../..');

/**
 * The tests' fake upstreams listen on loopback, which the product refuses by default (an empty
 * UPSTREAM_ALLOWLIST): a test that does not choose its own allow-list lets loopback through.
 */
export const TEST_UPSTREAM_ALLOWLIST = '127.0.0.1/32,::1/128';

export const SERVICES = ['credential-vault', 'model-registry', 'usage-metering', 'evaluator', 'gateway'] as const;
export type ProductService = (typeof SERVICES)[number];
let counter = 0;

export function productModeFromEnv(): ProductMode {
  return process.env.E2E_MODE === 'distributed' ? 'distributed' : 'embedded';
}

export async function startProduct(options: ProductOptions = {}): Promise<Product> {
  const mode = options.mode ?? productModeFromEnv();
  return mode === 'embedded' ? startEmbedded(options) : startDistributed(options);
}

/** Resolves once a child's stdout and stderr are drained: 'exit' can come before its last output. */
const outputClosed = new WeakMap<ChildProcess, Promise<void>>();

function spawnNode(script: string, env: Record<string, string>, cpus: string | undefined, sink: string[], extraNodeArgs: string[] = []): ChildProcess {
  // As `npm start` runs it (package.json): a small young generation keeps GC pauses short.
  const nodeArgs = ['--max-semi-space-size=16', ...extraNodeArgs, path.join(ROOT, script)];
  const [cmd, args] = cpus ? ['taskset', ['-c', cpus, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const tag = path.basename(path.dirname(path.dirname(script))) || 'main';
  child.stdout!.on('data', (d: Buffer) => sink.push(`[${tag}] ${d.toString()}`));
  child.stderr!.on('data', (d: Buffer) => sink.push(`[${tag}:err] ${d.toString()}`));
  outputClosed.set(child, new Promise((resolve) => child.once('close', () => resolve())));
  return child;
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, children: ChildProcess[], logs: string[]): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const exited = children.find((c) => c.exitCode !== null || c.signalCode !== null);
    if (exited) {
      await Promise.race([outputClosed.get(exited), new Promise((r) => setTimeout(r, 2000).unref())]);
      throw new Error(`a product process exited (${exited.exitCode ?? exited.signalCode}) while waiting for ${what}:\n${logs.join('')}`);
    }
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}:\n${logs.join('')}`);
}

/** Every gateway URL the product's banners named so far, in order. */
function bannerUrls(logs: string[]): string[] {
  return [...logs.join('').matchAll(/Gateway:\s+(http:\/\/\S+)/g)].map((m) => m[1]!);
}

function bannerValues(logs: string[], knownKey?: string): { url: string; key: string } | undefined {
  const text = logs.join('');
  const url = /Gateway:\s+(http:\/\/\S+)/.exec(text)?.[1];
  const key = knownKey ?? /^\s+(sk-gw-[A-Za-z0-9_-]+)\s*$/m.exec(text)?.[1];
  return url && key ? { url, key } : undefined;
}

async function isReady(url: string): Promise<true | undefined> {
  try {
    const res = await fetch(`${url}/health/ready`);
    return res.status === 200 ? true : undefined;
  } catch {
    return undefined;
  }
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
          c.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}

async function startEmbedded(options: ProductOptions): Promise<Product> {
  const logs: string[] = [];
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'gw-e2e-')));
  const removeData = options.dataDir ? async () => undefined : () => rm(dataDir, { recursive: true, force: true });
  const child = spawnNode(
    'dist/apps/main.js',
    // PORT 0: the gateway takes a free port as it listens and names it in its banner (a port found
    // free beforehand could be taken by another suite's process before the product binds it).
    { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', UPSTREAM_ALLOWLIST: TEST_UPSTREAM_ALLOWLIST, ...options.env },
    options.cpus,
    logs,
  );
  const timeout = options.startTimeoutMs ?? 90_000;
  try {
    const { url, key } = await waitFor('the gateway banner', () => bannerValues(logs, options.adminKey), timeout, [child], logs);
    await waitFor('/health/ready', () => isReady(url), timeout, [child], logs);
    return {
      mode: 'embedded',
      url,
      gatewayUrls: [url],
      adminKey: key,
      processes: [child],
      gatewayProcess: child,
      output: () => logs.join(''),
      stop: async () => {
        await stopAll([child]);
        await removeData();
      },
    };
  } catch (err) {
    await stopAll([child]);
    await removeData();
    throw err;
  }
}

async function startDistributed(options: ProductOptions): Promise<Product> {
  const logs: string[] = [];
  const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const natsUrl = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
  const id = `${process.pid}x${counter++}`;
  const database = `e2e_${id}`;
  const namespace = `e2e${id}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${database}`;
  const databaseUrl = dbUrl.toString();
  const env = {
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    BUS_NAMESPACE: namespace,
    VAULT_MASTER_KEY: randomBytes(32).toString('base64'),
    PORT: '0', // each gateway takes a free port as it listens and names it in its banner
    LOG_LEVEL: 'warn',
    UPSTREAM_ALLOWLIST: TEST_UPSTREAM_ALLOWLIST,
    ...options.env,
  };
  const cpuList = options.cpus?.split(',');
  const children = SERVICES.map((svc, i) =>
    svc === 'gateway'
      ? spawnNode(`dist/apps/${svc}/src/main.js`, env, options.gatewayCpus ?? (cpuList ? cpuList[i % cpuList.length] : undefined), logs, options.gatewayNodeArgs)
      : spawnNode(`dist/apps/${svc}/src/main.js`, env, cpuList ? cpuList[i % cpuList.length] : undefined, logs, options.serviceNodeArgs?.[svc]),
  );
  const gatewayProcess = children[SERVICES.indexOf('gateway')]!;
  const cleanup = async (): Promise<void> => {
    await stopAll(children);
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await a.end();
    const js = await JetStreamDurableStreams.connect({ kind: 'nats', servers: [natsUrl], name: 'e2e-cleanup', namespace });
    await js.deleteStream();
    await js.close();
  };
  const timeout = options.startTimeoutMs ?? 90_000;
  try {
    const { url, key } = await waitFor('the gateway banner', () => bannerValues(logs), timeout, children, logs);
    await waitFor('/health/ready', () => isReady(url), timeout, children, logs);
    const gatewayUrls = [url];
    for (let replica = 1; replica < (options.gatewayReplicas ?? 1); replica++) {
      children.push(spawnNode('dist/apps/gateway/src/main.js', env, options.gatewayCpus, logs, options.gatewayNodeArgs));
      const replicaUrl = await waitFor(`the banner of gateway replica ${replica + 1}`, () => bannerUrls(logs).find((u) => !gatewayUrls.includes(u)), timeout, children, logs);
      await waitFor(`/health/ready of gateway replica ${replica + 1}`, () => isReady(replicaUrl), timeout, children, logs);
      gatewayUrls.push(replicaUrl);
    }
    return {
      mode: 'distributed',
      url,
      gatewayUrls,
      adminKey: key,
      databaseUrl,
      busNamespace: namespace,
      processes: children,
      gatewayProcess,
      output: () => logs.join(''),
      stop: cleanup,
      restartService: async (service) => {
        const at = SERVICES.indexOf(service);
        await stopAll([children[at]!]);
        children[at] = spawnNode(`dist/apps/${service}/src/main.js`, env, cpuList ? cpuList[at % cpuList.length] : undefined, logs, options.serviceNodeArgs?.[service]);
        // /health/ready pings every service over the bus: ready again once the restarted one answers.
        await waitFor(`${service} answering again`, () => isReady(url), timeout, children, logs);
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
