import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Issue 15.4: a gateway key's own requests and tokens per minute (null = no limit). */
export class KeyRateLimits1765100000001 implements MigrationInterface {
  name = 'KeyRateLimits1765100000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN requests_per_minute integer, ADD COLUMN tokens_per_minute integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys DROP COLUMN requests_per_minute, DROP COLUMN tokens_per_minute`);
  }
}
