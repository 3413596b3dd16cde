import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1732350000000 implements MigrationInterface {
  name = 'Initial1732350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE datasets (
        id text PRIMARY KEY,
        organisation_id text NOT NULL,
        project_id text,
        name text NOT NULL,
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX datasets_org_name ON datasets (organisation_id, name)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE datasets`);
  }
}
