import type { CostGrouping, TenantScope } from '#libs/contracts';
import { openServiceDatabase } from '#libs/db';
import { formatDecimal, parseDecimal } from '#libs/money';
import type { DataSource } from 'typeorm';
import { createServiceHarness, type ServiceHarness } from '../../../../test/support/service-harness.js';
import type { NewUsageRecord } from '../records/new-usage-record.js';
import { UsageRecordEntity } from '../records/usage-record.entity.js';
import { UsageRecordsRepository } from '../records/usage-records.repository.js';
import { rollupRows } from '../migrations/1796670000000-usage-rollups.js';
import { METERING_MIGRATIONS, METERING_SCHEMA } from '../usage-metering.module.js';
import { CostsReportRepository, NO_GROUP_KEY, type CostGroupRow } from './costs-report.repository.js';

/*
 * Medium test: the cost report reads the hourly rollup (and the records at a window's partial-hour
 * edges); on randomized records, stored through the consumer's own writes (COPY, the redelivery
 * path) and re-priced, every grouping and window must give exactly the sums over the records.
 */

const ORG = 'org-rollup';
const DAY0 = Date.parse('2025-03-01T00:00:00.000Z');
const HOUR = 3600_000;
const GROUPINGS: CostGrouping[] = ['model', 'project', 'key', 'provider', 'connection', 'provider_model', 'user', 'day', 'hour'];

/** Deterministic (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = random(17);
const pick = <T>(values: readonly T[]): T => values[Math.floor(rnd() * values.length)]!;
const int = (max: number): bigint => BigInt(Math.floor(rnd() * max));
let seq = 0;

function randomRecord(organisationId = ORG): NewUsageRecord {
  seq++;
  const status = pick(['reported', 'reported', 'reported', 'partial', 'missing'] as const);
  const priced = status !== 'missing' && rnd() < 0.7;
  const missing = status === 'missing';
  return {
    id: `usage_rollup_${String(seq).padStart(6, '0')}`,
    organisationId,
    projectId: pick([null, 'proj-a', 'proj-b']),
    keyId: pick([null, 'key-1', 'key-2', 'key-3']),
    traceId: `trace-${seq}`,
    spanId: `span-${seq}`,
    source: 'gateway',
    model: pick(['gpt-4o', 'claude-sonnet', '', 'o3']),
    provider: pick([null, 'openai', 'anthropic']),
    connectionId: pick([null, 'conn-1', 'conn-2']),
    providerModel: pick([null, 'pm-fast', 'pm-slow']),
    userId: pick([null, 'alice', 'bob', 'carol']),
    // Three days, so day and hour groupings have several groups and windows cut hours.
    startedAt: new Date(DAY0 + Math.floor(rnd() * 3 * 24 * HOUR)),
    usage: missing
      ? { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n, reasoning: 0n }
      : { input: int(100_000), output: int(5000), cacheRead: int(2000), cacheWrite: int(1000), reasoning: int(800) },
    usageStatus: status,
    estimated: rnd() < 0.1,
    cacheHit: rnd() < 0.1,
    errorType: rnd() < 0.1 ? '500' : null,
    definitionId: priced ? 'def-x' : null,
    priceEffectiveFrom: priced ? new Date(DAY0) : null,
    // Up to 12 decimal places: sums must keep every digit.
    cost: priced ? `${Math.floor(rnd() * 10)}.${String(Math.floor(rnd() * 1e12)).padStart(12, '0')}` : null,
    costBreakdown: priced ? { input: '0.1' } : null,
    priced,
    unpricedReason: priced ? null : missing ? 'usage_missing' : 'no_matching_definition',
  };
}

/** The report's sums straight over usage_records (what the report computed before the rollup). */
async function rawGroups(ds: DataSource, scope: TenantScope, from: Date, to: Date, groupBy: CostGrouping): Promise<CostGroupRow[]> {
  const expression: Record<CostGrouping, string> = {
    model: `COALESCE(NULLIF(model, ''), '${NO_GROUP_KEY}')`,
    project: `COALESCE(project_id, '${NO_GROUP_KEY}')`,
    key: `COALESCE(key_id, '${NO_GROUP_KEY}')`,
    provider: `COALESCE(provider, '${NO_GROUP_KEY}')`,
    connection: `COALESCE(connection_id, '${NO_GROUP_KEY}')`,
    provider_model: `COALESCE(provider_model, '${NO_GROUP_KEY}')`,
    user: `COALESCE(user_id, '${NO_GROUP_KEY}')`,
    day: `to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
    hour: `to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00Z"')`,
  };
  const params: unknown[] = [scope.organisationId, from.toISOString(), to.toISOString()];
  let where = 'organisation_id = $1 AND started_at >= $2 AND started_at < $3';
  if (scope.projectId !== null) {
    params.push(scope.projectId);
    where += ' AND project_id = $4';
  }
  return ds.query(
    `SELECT ${expression[groupBy]} AS "key", count(*)::text AS "requests",
            sum(input_tokens)::text AS "inputTokens", sum(cache_read_tokens)::text AS "cachedInputTokens",
            sum(cache_write_tokens)::text AS "cacheWriteTokens", sum(output_tokens)::text AS "outputTokens",
            sum(reasoning_tokens)::text AS "reasoningTokens",
            COALESCE(sum(cost) FILTER (WHERE priced), 0)::text AS "cost",
            (count(*) FILTER (WHERE NOT priced AND usage_status <> 'missing'))::text AS "unpricedRequests",
            (count(*) FILTER (WHERE usage_status = 'missing'))::text AS "missingUsageRequests",
            (count(*) FILTER (WHERE usage_status = 'partial'))::text AS "partialUsageRequests",
            (count(*) FILTER (WHERE error_type IS NOT NULL))::text AS "errorRequests",
            (count(*) FILTER (WHERE estimated))::text AS "estimatedRequests",
            (count(*) FILTER (WHERE cache_hit))::text AS "cacheHitRequests"
       FROM usage_records WHERE ${where} GROUP BY 1
      ORDER BY ${groupBy === 'day' || groupBy === 'hour' ? '1 ASC' : 'COALESCE(sum(cost) FILTER (WHERE priced), 0) DESC, 1 ASC'}`,
    params,
  );
}

/** Rows with the cost in its one normal form (numeric's text keeps the widest scale summed). */
function normal(rows: CostGroupRow[]): CostGroupRow[] {
  return rows.map((r) => ({ ...r, cost: formatDecimal(parseDecimal(r.cost)) }));
}

/** Whole days, days with hours and partial hours at both ends, a window inside one hour, one with no whole hour, all of it. */
const WINDOWS: [string, string][] = [
  ['2025-03-01T00:00:00.000Z', '2025-03-04T00:00:00.000Z'],
  ['2025-03-01T05:17:23.456Z', '2025-03-02T19:42:01.001Z'],
  ['2025-03-01T05:17:23.456Z', '2025-03-03T19:42:01.001Z'],
  ['2025-03-02T10:10:00.000Z', '2025-03-02T10:50:00.000Z'],
  ['2025-03-02T10:30:00.000Z', '2025-03-02T11:30:00.000Z'],
  ['2025-03-01T03:00:00.000Z', '2025-03-03T07:00:00.001Z'],
  ['2024-12-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
];
const SCOPES: TenantScope[] = [
  { organisationId: ORG, projectId: null },
  { organisationId: ORG, projectId: 'proj-b' },
];

let h: ServiceHarness;
let ds: DataSource;
let records: UsageRecordsRepository;
let reports: CostsReportRepository;

beforeAll(async () => {
  h = await createServiceHarness('usage_rollup');
  ds = await openServiceDatabase({ url: h.databaseUrl, schema: METERING_SCHEMA, entities: [UsageRecordEntity], migrations: METERING_MIGRATIONS, poolSize: 4 });
  records = new UsageRecordsRepository(ds);
  reports = new CostsReportRepository(ds);
});
afterAll(async () => {
  await ds?.destroy();
  await h?.close();
});

async function expectReportsEqualRaw(): Promise<void> {
  for (const scope of SCOPES) {
    for (const [from, to] of WINDOWS) {
      for (const groupBy of GROUPINGS) {
        const window = { from: new Date(from), to: new Date(to), groupBy };
        const expected = normal(await rawGroups(ds, scope, window.from, window.to, groupBy));
        const actual = normal(await reports.groups(scope, window));
        expect({ scope, from, to, groupBy, rows: actual }).toEqual({ scope, from, to, groupBy, rows: expected });
      }
    }
  }
}

describe('the cost report over the hourly rollup', () => {
  const stored: NewUsageRecord[] = [];

  it('equals the sums over the records for every grouping and window, including partial hours', async () => {
    for (let b = 0; b < 6; b++) {
      const batch = Array.from({ length: 250 }, () => randomRecord());
      expect((await records.insertBatch(batch)).length).toBe(batch.length);
      stored.push(...batch);
    }
    // Another organisation's records at the same hours must not leak into the sums.
    await records.insertBatch(Array.from({ length: 100 }, () => randomRecord('org-rollup-other')));
    const rollupRows = await ds.query<{ n: string }[]>(`SELECT count(*)::text AS n FROM usage_rollups WHERE organisation_id = $1`, [ORG]);
    expect(Number(rollupRows[0]!.n)).toBeGreaterThan(0);
    await expectReportsEqualRaw();
  });

  it('adds nothing for a batch delivered again, only its spans not stored yet', async () => {
    const fresh = Array.from({ length: 40 }, () => randomRecord());
    // Stored spans under new record ids (a batch re-sent), beside new ones: the redelivery path.
    const again = stored.slice(0, 120).map((r, i) => ({ ...r, id: `usage_rollup_again_${i}` }));
    expect((await records.insertBatch([...again, ...fresh])).length).toBe(fresh.length);
    expect((await records.insertBatch([...again, ...fresh])).length).toBe(0);
    stored.push(...fresh);
    await expectReportsEqualRaw();
  });

  it('moves re-priced records from unpriced to their cost in the rollup', async () => {
    const unpriced = stored.filter((r) => !r.priced && r.usageStatus !== 'missing').slice(0, 150);
    expect(unpriced.length).toBeGreaterThan(50);
    const updates = unpriced.map((r, i) => ({
      id: r.id,
      outcome:
        i % 3 === 2
          ? { priced: false as const, reason: 'no_price_in_force' as const, definitionId: 'def-y', priceEffectiveFrom: null }
          : { priced: true as const, definitionId: 'def-y', priceEffectiveFrom: new Date(DAY0), tier: 'default', cost: parseDecimal(`0.${String(i).padStart(3, '0')}000000000017`), breakdown: { input: '0.1' } },
    }));
    expect(await records.updateUnpricedIds(updates)).toHaveLength(updates.length);
    // A second re-pricing of the same records changes nothing (they are priced now, or unchanged).
    await records.updateUnpricedIds(updates.filter((u) => u.outcome.priced));
    await expectReportsEqualRaw();
  });

  it('keeps every rollup row equal to the sums of its records counted one by one, deleted records taken away', async () => {
    await ds.query(`DELETE FROM usage_records WHERE id IN (SELECT id FROM usage_records ORDER BY id LIMIT 90)`);
    const sums = ['requests', 'input_tokens', 'cache_read_tokens', 'cache_write_tokens', 'output_tokens', 'reasoning_tokens', 'cost', 'unpriced_requests', 'missing_usage_requests', 'partial_usage_requests', 'error_requests', 'estimated_requests', 'cache_hit_requests'];
    const key = 'organisation_id, dimension, period, bucket, project_id, value';
    // The reference: every record fanned out to its rollup rows one by one (the first triggers' way), then summed.
    const expected = `SELECT ${key}, ${sums.map((c) => `sum(${c}) AS ${c}`).join(', ')} FROM (${rollupRows('usage_records', '1')}) AS x GROUP BY ${key}`;
    // Rows whose records were all deleted stay, at zero. (EXCEPT matches null projects and values as equal.)
    const actual = `SELECT ${key}, ${sums.join(', ')} FROM usage_rollups WHERE NOT (${sums.map((c) => `${c} = 0`).join(' AND ')})`;
    const differing = await ds.query<unknown[]>(`(${expected} EXCEPT ${actual}) UNION ALL (${actual} EXCEPT ${expected})`);
    expect(differing).toEqual([]);
    const rows = await ds.query<{ n: string }[]>(`SELECT count(*)::text AS n FROM (${actual}) AS a`);
    expect(Number(rows[0]!.n)).toBeGreaterThan(100);
  });
});
