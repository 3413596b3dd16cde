import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Datasets become versioned (append-only rows; version N = the rows added by versions 1..N), and
 * evaluation runs keep one result per row as it finishes, so a restarted evaluator resumes a run
 * by skipping the rows that have a result.
 */
export class Evaluations1796700000000 implements MigrationInterface {
  name = 'Evaluations1796700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE datasets ADD COLUMN version integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE datasets ADD COLUMN row_count integer NOT NULL DEFAULT 0`);
    // A project's dataset names must not collide with (and so reveal) another project's.
    await q.query(`DROP INDEX datasets_org_name`);
    await q.query(`CREATE UNIQUE INDEX datasets_owner_name ON datasets (organisation_id, coalesce(project_id, ''), name)`);
    await q.query(`CREATE INDEX datasets_org_created ON datasets (organisation_id, created_at, id)`);
    await q.query(`
      CREATE TABLE dataset_rows (
        dataset_id text NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        row_index integer NOT NULL,
        version integer NOT NULL,
        input jsonb NOT NULL,
        expected jsonb,
        metadata jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (dataset_id, row_index)
      )`);
    await q.query(`
      CREATE TABLE evaluation_runs (
        id text PRIMARY KEY,
        organisation_id text NOT NULL,
        project_id text,
        actor_key_id text NOT NULL,
        actor_name text NOT NULL,
        name text,
        dataset_id text NOT NULL REFERENCES datasets (id),
        dataset_version integer NOT NULL,
        task jsonb NOT NULL,
        scorers jsonb NOT NULL,
        concurrency integer NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'succeeded', 'cancelled', 'failed')),
        rows_total integer NOT NULL,
        error text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        finished_at timestamptz(3)
      )`);
    await q.query(`CREATE INDEX evaluation_runs_org ON evaluation_runs (organisation_id, created_at, id)`);
    await q.query(`CREATE INDEX evaluation_runs_running ON evaluation_runs (status) WHERE status = 'running'`);
    await q.query(`
      CREATE TABLE evaluation_results (
        run_id text NOT NULL REFERENCES evaluation_runs (id) ON DELETE CASCADE,
        row_index integer NOT NULL,
        output text,
        error text,
        scores jsonb NOT NULL,
        latency_ms integer NOT NULL,
        input_tokens integer,
        output_tokens integer,
        trace_id text NOT NULL,
        expected_calls integer NOT NULL,
        cost numeric,
        priced boolean NOT NULL DEFAULT false,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, row_index)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE evaluation_results`);
    await q.query(`DROP TABLE evaluation_runs`);
    await q.query(`DROP TABLE dataset_rows`);
    await q.query(`DROP INDEX datasets_org_created`);
    await q.query(`DROP INDEX datasets_owner_name`);
    await q.query(`CREATE UNIQUE INDEX datasets_org_name ON datasets (organisation_id, name)`);
    await q.query(`ALTER TABLE datasets DROP COLUMN row_count`);
    await q.query(`ALTER TABLE datasets DROP COLUMN version`);
  }
}
