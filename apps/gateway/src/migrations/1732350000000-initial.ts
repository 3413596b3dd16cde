import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1732350000000 implements MigrationInterface {
  name = 'Initial1732350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id text PRIMARY KEY,
        organisation_id text NOT NULL,
        project_id text,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('client', 'admin')),
        prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_org ON api_keys (organisation_id, created_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_keys`);
  }
}
