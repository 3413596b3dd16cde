import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PlaygroundRuns1732380000000 implements MigrationInterface {
  name = 'PlaygroundRuns1732380000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE playground_runs (
        id text PRIMARY KEY,
        organisation_id text NOT NULL,
        project_id text,
        actor_key_id text NOT NULL,
        model text NOT NULL,
        messages jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
        output text,
        input_tokens integer,
        output_tokens integer,
        error text,
        latency_ms integer NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX playground_runs_org ON playground_runs (organisation_id, created_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE playground_runs`);
  }
}
