import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ROLLUP_DIMENSIONS, rollupRows, upsertRollup } from './1796670000000-usage-rollups.js';

/** The rollup's unique key (as UsageRollups1796670000000 made it). */
const KEY = ['organisation_id', 'dimension', 'period', 'bucket', 'project_id', 'value'];

/** A record's columns a rollup row can be told apart by: every dimension's column, beside organisation and project. */
const CALL_COLUMNS = ['organisation_id', 'project_id', ...new Set(Object.values(ROLLUP_DIMENSIONS).filter((c) => c !== 'NULL::text'))];

/** Each rollup sum, as an aggregate over usage_records rows `s` (the same sums the raw report computes). */
const SUMS: readonly (readonly [string, string])[] = [
  ['requests', 'count(*)'],
  ['input_tokens', 'sum(s.input_tokens)'],
  ['cache_read_tokens', 'sum(s.cache_read_tokens)'],
  ['cache_write_tokens', 'sum(s.cache_write_tokens)'],
  ['output_tokens', 'sum(s.output_tokens)'],
  ['reasoning_tokens', 'sum(s.reasoning_tokens)'],
  ['cost', 'coalesce(sum(s.cost) FILTER (WHERE s.priced), 0)'],
  ['unpriced_requests', `count(*) FILTER (WHERE NOT s.priced AND s.usage_status <> 'missing')`],
  ['missing_usage_requests', `count(*) FILTER (WHERE s.usage_status = 'missing')`],
  ['partial_usage_requests', `count(*) FILTER (WHERE s.usage_status = 'partial')`],
  ['error_requests', 'count(*) FILTER (WHERE s.error_type IS NOT NULL)'],
  ['estimated_requests', 'count(*) FILTER (WHERE s.estimated)'],
  ['cache_hit_requests', 'count(*) FILTER (WHERE s.cache_hit)'],
];

/**
 * The rows of `src` (usage_records rows) grouped by everything a rollup row is keyed by, with the
 * UTC hour they started in, each sum counted `sign` times (1 added, -1 taken away). A batch's calls
 * share few such groups (a gateway's keys, models and connections within an hour), so the fan-out
 * to every dimension below works on the groups, not on every record.
 */
function callGroups(src: string, sign: string): string {
  const columns = CALL_COLUMNS.map((c) => `s.${c}`).join(', ');
  return `SELECT ${columns}, date_trunc('hour', s.started_at, 'UTC') AS hour, ${SUMS.map(([name, sum]) => `${sign} * ${sum} AS ${name}`).join(', ')}
            FROM ${src} AS s
           GROUP BY ${columns}, date_trunc('hour', s.started_at, 'UTC')`;
}

/**
 * Adds call groups (callGroups, or a UNION ALL of them) into usage_rollups: each group once per
 * dimension by day, and once by hour for 'none' (the rollup's rows as UsageRollups1796670000000
 * defines them), summed per rollup key and upserted in key order, so concurrent batches lock shared
 * rollup rows in the same order.
 */
function upsertGroups(groups: string): string {
  const rows = Object.entries(ROLLUP_DIMENSIONS).map(([name, column]) => `('${name}', ${column === 'NULL::text' ? column : `g.${column}`}, 'day')`);
  rows.push(`('none', NULL::text, 'hour')`);
  const key = KEY.join(', ');
  const names = SUMS.map(([name]) => name);
  return `INSERT INTO usage_rollups AS r (${key}, ${names.join(', ')})
          SELECT g.organisation_id, d.dimension, d.period, CASE d.period WHEN 'hour' THEN g.hour ELSE date_trunc('day', g.hour, 'UTC') END AS bucket, g.project_id, d.value,
                 ${names.map((n) => `sum(g.${n})`).join(', ')}
            FROM (${groups}) AS g
           CROSS JOIN LATERAL (VALUES ${rows.join(', ')}) AS d(dimension, value, period)
           GROUP BY ${key}
           ORDER BY ${key}
          ON CONFLICT (${key}) DO UPDATE SET ${names.map((n) => `${n} = r.${n} + EXCLUDED.${n}`).join(', ')}`;
}

/** Adds the records of `src` (a table, or a parenthesised SELECT of usage_records rows) to the rollups. */
export function addToRollups(src: string): string {
  return upsertGroups(callGroups(src, '1'));
}

/**
 * Issue 17 item 6 (20,000 spans/s): the rollup triggers group a statement's records by call before
 * fanning them out to the eight rollup rows each one counts in. Before, every record became eight
 * rows with two time-zone conversions each, then grouped again: about 12 µs of Postgres time per
 * record, more than the COPY itself. Grouped first, a 512-span batch of a few keys and models costs
 * the trigger a few dozen groups. The rollups stay exactly the sums of the records (same statements,
 * same transaction, same transition tables; only the order of summing changes, and integer and
 * numeric sums do not depend on it).
 */
export class UsageRollupsPregrouped1796680000000 implements MigrationInterface {
  name = 'UsageRollupsPregrouped1796680000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of triggerFunctions(callGroups, upsertGroups)) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    // Back to the functions UsageRollups1796670000000 made (same sums, counted per record).
    for (const sql of triggerFunctions(rollupRows, upsertRollup)) await q.query(sql);
  }
}

/** The three trigger functions, from the rows a statement's records add (sign 1) or take back (sign -1), and their upsert. */
function triggerFunctions(rows: (src: string, sign: '1' | '-1') => string, upsert: (rows: string) => string): string[] {
  const fn = (name: string, body: string) => `CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${body};
        RETURN NULL;
      END $$`;
  return [
    fn('usage_rollups_inserted', upsert(rows('new_rows', '1'))),
    fn('usage_rollups_updated', upsert(`${rows('old_rows', '-1')} UNION ALL ${rows('new_rows', '1')}`)),
    fn('usage_rollups_deleted', upsert(rows('old_rows', '-1'))),
  ];
}
