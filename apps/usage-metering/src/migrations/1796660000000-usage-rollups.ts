import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The rollup's grouping columns, in its unique index's order. */
export const ROLLUP_DIMENSIONS = ['organisation_id', 'hour', 'project_id', 'key_id', 'model', 'provider', 'connection_id', 'provider_model', 'user_id'] as const;

/**
 * The rollup's sums of a set of usage_records rows `src`, each row counted `sign` times (1 added,
 * -1 taken away): the same expressions the raw report uses, so the two agree exactly.
 */
function rollupSelect(src: string, sign: string): string {
  return `SELECT organisation_id, date_trunc('hour', started_at, 'UTC') AS hour, project_id, key_id, model, provider, connection_id, provider_model, user_id,
            ${sign} AS requests,
            ${sign} * input_tokens AS input_tokens,
            ${sign} * cache_read_tokens AS cache_read_tokens,
            ${sign} * cache_write_tokens AS cache_write_tokens,
            ${sign} * output_tokens AS output_tokens,
            ${sign} * reasoning_tokens AS reasoning_tokens,
            CASE WHEN priced THEN ${sign} * cost ELSE 0 END AS cost,
            CASE WHEN NOT priced AND usage_status <> 'missing' THEN ${sign} ELSE 0 END AS unpriced_requests,
            CASE WHEN usage_status = 'missing' THEN ${sign} ELSE 0 END AS missing_usage_requests,
            CASE WHEN usage_status = 'partial' THEN ${sign} ELSE 0 END AS partial_usage_requests,
            CASE WHEN error_type IS NOT NULL THEN ${sign} ELSE 0 END AS error_requests,
            CASE WHEN estimated THEN ${sign} ELSE 0 END AS estimated_requests
       FROM ${src}`;
}

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
] as const;

/** Adds the grouped rows of `rows` (a rollupSelect or a UNION of them) into usage_rollups. */
function upsertRollup(rows: string): string {
  const dims = ROLLUP_DIMENSIONS.join(', ');
  return `INSERT INTO usage_rollups AS r (${dims}, ${SUMS.join(', ')})
          SELECT ${dims}, ${SUMS.map((s) => `sum(${s})`).join(', ')}
            FROM (${rows}) AS d
           GROUP BY ${dims}
           ORDER BY ${dims}
          ON CONFLICT (${dims}) DO UPDATE SET ${SUMS.map((s) => `${s} = r.${s} + EXCLUDED.${s}`).join(', ')}`;
}

/**
 * Issue 17 item 5: cost reports over millions of records read an hourly rollup (per organisation,
 * hour and every report dimension) instead of the records. The rollup is kept by statement-level
 * triggers on usage_records with transition tables, so it changes in the same transaction as the
 * records, by exactly the rows that statement inserted (a COPY, or INSERT ... ON CONFLICT DO
 * NOTHING: only rows really inserted are in the transition table) or updated (re-pricing: the old
 * rows taken away, the new added). Exactly-once of the records is therefore exactly-once of the
 * rollup: a redelivered batch adds nothing. Rows are upserted in key order, so two concurrent
 * batches lock shared rollup rows in the same order (no deadlock).
 */
export class UsageRollups1796660000000 implements MigrationInterface {
  name = 'UsageRollups1796660000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_rollups (
        organisation_id text NOT NULL,
        hour timestamptz NOT NULL,
        project_id text,
        key_id text,
        model text NOT NULL,
        provider text,
        connection_id text,
        provider_model text,
        user_id text,
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
        estimated_requests bigint NOT NULL
      )`);
    // NULLS NOT DISTINCT: a call without a key or project rolls up into one row, not one per call.
    await q.query(`CREATE UNIQUE INDEX usage_rollups_key ON usage_rollups (${ROLLUP_DIMENSIONS.join(', ')}) NULLS NOT DISTINCT`);
    await q.query(`CREATE FUNCTION usage_rollups_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${upsertRollup(rollupSelect('new_rows', '1'))};
        RETURN NULL;
      END $$`);
    await q.query(`CREATE FUNCTION usage_rollups_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${upsertRollup(`${rollupSelect('old_rows', '-1')} UNION ALL ${rollupSelect('new_rows', '1')}`)};
        RETURN NULL;
      END $$`);
    await q.query(`CREATE FUNCTION usage_rollups_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${upsertRollup(rollupSelect('old_rows', '-1'))};
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER usage_rollups_inserted AFTER INSERT ON usage_records REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_inserted()`);
    await q.query(
      `CREATE TRIGGER usage_rollups_updated AFTER UPDATE ON usage_records REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_updated()`,
    );
    await q.query(`CREATE TRIGGER usage_rollups_deleted AFTER DELETE ON usage_records REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_deleted()`);
    // The records stored so far (the table is locked by the migration's transaction meanwhile).
    await q.query(`LOCK TABLE usage_records IN SHARE MODE`);
    await q.query(upsertRollup(rollupSelect('usage_records', '1')));
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
