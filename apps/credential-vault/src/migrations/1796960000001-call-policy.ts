import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Issue 16.4: a connection's call policy from its configuration file (timeout, max_retries, retry_delay), kept for the gateway policy. */
export class VaultCallPolicy1796960000001 implements MigrationInterface {
  name = 'VaultCallPolicy1796960000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections ADD COLUMN call_policy jsonb NOT NULL DEFAULT '{}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections DROP COLUMN call_policy`);
  }
}
