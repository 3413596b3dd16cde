import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Issue 15.6: a gateway key's response-cache default, a TTL in seconds (null = only requests that ask are cached). */
export class KeyResponseCache1765100000060 implements MigrationInterface {
  name = 'KeyResponseCache1765100000060';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN cache_ttl_seconds integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys DROP COLUMN cache_ttl_seconds`);
  }
}
