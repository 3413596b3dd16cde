import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The report groupings a rollup row sums one value of, and the record column that value is.
 * 'none' sums the organisation's (or project's) calls whatever they were: the project, day and
 * hour groupings read it (project_id and the period are columns of every rollup row).
 */
export const ROLLUP_DIMENSIONS: Readonly<Record<string, string>> = {
  none: 'NULL::text',
  model: 'model',
  key: 'key_id',
  provider: 'provider',
  connection: 'connection_id',
  provider_model: 'provider_model',
  user: 'user_id',
};

/** The rollup's unique key; reports filter by its leading columns. */
const KEY = ['organisation_id', 'dimension', 'period', 'bucket', 'project_id', 'value'];

const SUMS = [
  'requests',
  'input_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'output_tokens',
  'reasoning_tokens',
  'cost',
  'unpriced_requests',
  'missing_usage_requests',
  'partial_usage_requests',
  'error_requests',
  'estimated_requests',
  'cache_hit_requests',
] as const;

/**
 * The rollup rows of a set of usage_records rows `src`, each counted `sign` times (1 added, -1 taken
 * away): every record once per dimension and period, with the same sums the raw report computes.
 */
export function rollupRows(src: string, sign: string): string {
  // Every dimension by day; only 'none' by hour too (few rows: one per project and hour). A report
  // grouped by a dimension reads the partial days at a window's edges from the records: hourly
  // rows of high-cardinality values (users, keys) would be about as many as the records.
  const rows = Object.entries(ROLLUP_DIMENSIONS).map(([name, column]) => `('${name}', ${column === 'NULL::text' ? column : `s.${column}`}, 'day')`);
  rows.push(`('none', NULL::text, 'hour')`);
  return `SELECT s.organisation_id, d.dimension, d.period, date_trunc(d.period, s.started_at, 'UTC') AS bucket, s.project_id, d.value,
            ${sign} AS requests,
            ${sign} * s.input_tokens AS input_tokens,
            ${sign} * s.cache_read_tokens AS cache_read_tokens,
            ${sign} * s.cache_write_tokens AS cache_write_tokens,
            ${sign} * s.output_tokens AS output_tokens,
            ${sign} * s.reasoning_tokens AS reasoning_tokens,
            CASE WHEN s.priced THEN ${sign} * s.cost ELSE 0 END AS cost,
            CASE WHEN NOT s.priced AND s.usage_status <> 'missing' THEN ${sign} ELSE 0 END AS unpriced_requests,
            CASE WHEN s.usage_status = 'missing' THEN ${sign} ELSE 0 END AS missing_usage_requests,
            CASE WHEN s.usage_status = 'partial' THEN ${sign} ELSE 0 END AS partial_usage_requests,
            CASE WHEN s.error_type IS NOT NULL THEN ${sign} ELSE 0 END AS error_requests,
            CASE WHEN s.estimated THEN ${sign} ELSE 0 END AS estimated_requests,
            CASE WHEN s.cache_hit THEN ${sign} ELSE 0 END AS cache_hit_requests
       FROM ${src} AS s
      CROSS JOIN LATERAL (VALUES ${rows.join(', ')}) AS d(dimension, value, period)`;
}

/** Adds the grouped rows of `rows` (rollupRows, or a UNION of them) into usage_rollups, in key order. */
export function upsertRollup(rows: string): string {
  const key = KEY.join(', ');
  return `INSERT INTO usage_rollups AS r (${key}, ${SUMS.join(', ')})
          SELECT ${key}, ${SUMS.map((s) => `sum(${s})`).join(', ')}
            FROM (${rows}) AS x
           GROUP BY ${key}
           ORDER BY ${key}
          ON CONFLICT (${key}) DO UPDATE SET ${SUMS.map((s) => `${s} = r.${s} + EXCLUDED.${s}`).join(', ')}`;
}

/**
 * Issue 17 item 5: cost reports over millions of records read rollups instead of the records: per
 * organisation, project, report dimension (one value of one grouping: a report groups by one) and
 * UTC day, and the calls of each project by UTC hour. One row per dimension value, not per
 * combination of them, so a window's rows stay few however many keys, users and models there are.
 *
 * Kept by statement-level triggers on usage_records with transition tables, so the rollups change
 * in the same transaction as the records and by exactly the rows the statement inserted (a COPY,
 * or INSERT ... ON CONFLICT DO NOTHING: only rows really inserted are in the transition table),
 * updated (re-pricing: the old rows taken away, the new added) or deleted. Exactly-once of the
 * records is therefore exactly-once of the rollups: a redelivered batch adds nothing. Rows are
 * upserted in key order, so concurrent batches lock shared rollup rows in the same order.
 */
/** Adds the records of `src` (a table, or a parenthesised SELECT of usage_records rows AS-able) to the rollups: the migration's backfill. */
export function addToRollups(src: string): string {
  return upsertRollup(rollupRows(src, '1'));
}

export class UsageRollups1796670000000 implements MigrationInterface {
  name = 'UsageRollups1796670000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_rollups (
        organisation_id text NOT NULL,
        dimension text NOT NULL,
        period text NOT NULL CHECK (period IN ('hour', 'day')),
        bucket timestamptz NOT NULL,
        project_id text,
        value text,
        requests bigint NOT NULL,
        input_tokens numeric NOT NULL,
        cache_read_tokens numeric NOT NULL,
        cache_write_tokens numeric NOT NULL,
        output_tokens numeric NOT NULL,
        reasoning_tokens numeric NOT NULL,
        cost numeric NOT NULL,
        unpriced_requests bigint NOT NULL,
        missing_usage_requests bigint NOT NULL,
        partial_usage_requests bigint NOT NULL,
        error_requests bigint NOT NULL,
        estimated_requests bigint NOT NULL,
        cache_hit_requests bigint NOT NULL
      )`);
    // NULLS NOT DISTINCT: calls without a key (or project) roll up into one row, not one per call.
    await q.query(`CREATE UNIQUE INDEX usage_rollups_key ON usage_rollups (${KEY.join(', ')}) NULLS NOT DISTINCT`);
    await q.query(`CREATE FUNCTION usage_rollups_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${upsertRollup(rollupRows('new_rows', '1'))};
        RETURN NULL;
      END $$`);
    await q.query(`CREATE FUNCTION usage_rollups_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${upsertRollup(`${rollupRows('old_rows', '-1')} UNION ALL ${rollupRows('new_rows', '1')}`)};
        RETURN NULL;
      END $$`);
    await q.query(`CREATE FUNCTION usage_rollups_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${upsertRollup(rollupRows('old_rows', '-1'))};
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER usage_rollups_inserted AFTER INSERT ON usage_records REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_inserted()`);
    await q.query(
      `CREATE TRIGGER usage_rollups_updated AFTER UPDATE ON usage_records REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_updated()`,
    );
    await q.query(`CREATE TRIGGER usage_rollups_deleted AFTER DELETE ON usage_records REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_deleted()`);
    // The records stored so far (writers wait for the migration's transaction meanwhile).
    await q.query(`LOCK TABLE usage_records IN SHARE MODE`);
    await q.query(addToRollups('usage_records'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER usage_rollups_deleted ON usage_records`);
    await q.query(`DROP TRIGGER usage_rollups_updated ON usage_records`);
    await q.query(`DROP TRIGGER usage_rollups_inserted ON usage_records`);
    await q.query(`DROP FUNCTION usage_rollups_deleted()`);
    await q.query(`DROP FUNCTION usage_rollups_updated()`);
    await q.query(`DROP FUNCTION usage_rollups_inserted()`);
    await q.query(`DROP TABLE usage_rollups`);
  }
}
