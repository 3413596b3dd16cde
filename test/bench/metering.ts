import pg from 'pg';
import { request } from 'undici';

export interface UsageRecordCounts {
  /** usage_status 'reported'. */
  reported: number;
  /** usage_status 'partial' or 'missing'. */
  unreported: number;
}

/**
 * What left the request path: the usage records metering stored (its table in the product's
 * database), and the gateway's own /metrics (telemetry queue, memory, event-loop delay).
 */
export class UsageRecordCounter {
  private constructor(private readonly db: pg.Client) {}

  static async connect(databaseUrl: string): Promise<UsageRecordCounter> {
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    return new UsageRecordCounter(db);
  }

  /** The server process of this connection (the benchmark finds Postgres's other processes from it). */
  async backendPid(): Promise<number> {
    const res = await this.db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return res.rows[0]!.pid;
  }

  /** Records with the usage reported in full: one per gateway request answered successfully. */
  async count(): Promise<number> {
    return (await this.counts()).reported;
  }

  /**
   * Records by usage_status (migration UsageStatus1796616360324): `reported` (usage in full), and
   * the rest, `partial` (a stream cut short) or `missing` (a call whose usage could not be read),
   * which only a failed call may leave. A successful answer of the bench's upstreams always carries
   * usage, so it must give a `reported` record; counting all rows against successes would call a
   * failed round's usage-missing records a mismatch, or hide a success recorded as missing.
   */
  async counts(): Promise<UsageRecordCounts> {
    const res = await this.db.query<{ reported: number; unreported: number }>(
      "SELECT count(*) FILTER (WHERE usage_status = 'reported')::int AS reported, count(*) FILTER (WHERE usage_status <> 'reported')::int AS unreported FROM metering.usage_records",
    );
    return res.rows[0]!;
  }

  /**
   * Polls until at least `expected` reported records are stored, or the count has not moved for
   * `stableMs` (telemetry flushes every 500 ms by default), or `timeoutMs` is up. Returns the last count.
   */
  async waitFor(expected: number, timeoutMs: number, stableMs = 3000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = await this.count();
    let lastChange = Date.now();
    while (last < expected && Date.now() < deadline && Date.now() - lastChange < stableMs) {
      await new Promise((r) => setTimeout(r, 200));
      const n = await this.count();
      if (n !== last) {
        last = n;
        lastChange = Date.now();
      }
    }
    return last;
  }

  /**
   * After failed gateway requests: their records (if the gateway sends spans for them) arrive
   * on their own schedule, so wait until no record of any status has been added for `stableMs`.
   */
  async settle(timeoutMs: number, stableMs = 1500): Promise<UsageRecordCounts> {
    const deadline = Date.now() + timeoutMs;
    let last = await this.counts();
    let lastChange = Date.now();
    while (Date.now() < deadline && Date.now() - lastChange < stableMs) {
      await new Promise((r) => setTimeout(r, 200));
      const n = await this.counts();
      if (n.reported !== last.reported || n.unreported !== last.unreported) {
        last = n;
        lastChange = Date.now();
      }
    }
    return last;
  }

  async close(): Promise<void> {
    await this.db.end().catch(() => undefined);
  }
}

/** Prometheus text (`name value` lines; no labels on the gateway's metrics) into a map. */
export function parsePrometheus(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && !m[2]) values.set(m[1]!, Number(m[3]));
  }
  return values;
}

/** GET /metrics; undefined when the gateway has none or it fails. */
export async function scrapeMetrics(gatewayUrl: string): Promise<Map<string, number> | undefined> {
  try {
    const res = await request(`${gatewayUrl}/metrics`, { headersTimeout: 5000, bodyTimeout: 5000 });
    const text = await res.body.text();
    return res.statusCode === 200 ? parsePrometheus(text) : undefined;
  } catch {
    return undefined;
  }
}
