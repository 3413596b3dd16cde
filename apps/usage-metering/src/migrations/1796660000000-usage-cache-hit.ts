import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Issue 15.6: a call the gateway's response cache answered is recorded as a cache hit, priced at 0. */
export class UsageCacheHit1796660000000 implements MigrationInterface {
  name = 'UsageCacheHit1796660000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records ADD COLUMN cache_hit boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records DROP COLUMN cache_hit`);
  }
}
