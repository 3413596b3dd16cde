import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Which evaluator replica runs a running run, until when: another takes it over once the lease lapses (a crashed replica). */
export class RunLeases1796700000002 implements MigrationInterface {
  name = 'RunLeases1796700000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE evaluation_runs ADD COLUMN lease_owner text`);
    await q.query(`ALTER TABLE evaluation_runs ADD COLUMN lease_until timestamptz(3)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE evaluation_runs DROP COLUMN lease_until`);
    await q.query(`ALTER TABLE evaluation_runs DROP COLUMN lease_owner`);
  }
}
