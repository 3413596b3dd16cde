import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Issue 15.5: a gateway key's owner (user or service) and spend budget (null = none). */
export class KeyOwnerAndBudget1765100000003 implements MigrationInterface {
  name = 'KeyOwnerAndBudget1765100000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN owner jsonb, ADD COLUMN budget jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys DROP COLUMN owner, DROP COLUMN budget`);
  }
}
