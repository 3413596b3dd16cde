import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Playground sessions: one prompt against several models; each model's answer is a playground run of the session. */
export class PlaygroundSessions1796700000001 implements MigrationInterface {
  name = 'PlaygroundSessions1796700000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE playground_sessions (
        id text PRIMARY KEY,
        organisation_id text NOT NULL,
        project_id text,
        actor_key_id text NOT NULL,
        rerun_of text,
        request jsonb NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX playground_sessions_org ON playground_sessions (organisation_id, created_at, id)`);
    await q.query(`ALTER TABLE playground_runs ADD COLUMN session_id text REFERENCES playground_sessions (id) ON DELETE CASCADE`);
    await q.query(`ALTER TABLE playground_runs ADD COLUMN position integer`);
    await q.query(`ALTER TABLE playground_runs ADD COLUMN ttft_ms integer`);
    await q.query(`ALTER TABLE playground_runs ADD COLUMN tool_calls jsonb`);
    await q.query(`ALTER TABLE playground_runs ADD COLUMN trace_id text`);
    await q.query(`ALTER TABLE playground_runs ADD COLUMN cost numeric`);
    await q.query(`CREATE INDEX playground_runs_session ON playground_runs (session_id, position)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX playground_runs_session`);
    for (const c of ['cost', 'trace_id', 'tool_calls', 'ttft_ms', 'position', 'session_id']) await q.query(`ALTER TABLE playground_runs DROP COLUMN ${c}`);
    await q.query(`DROP TABLE playground_sessions`);
  }
}
