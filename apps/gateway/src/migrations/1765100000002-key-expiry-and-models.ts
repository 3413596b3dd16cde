import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Issue 15.5: a gateway key's expiry (null = never) and the models it may call (null = all). */
export class KeyExpiryAndModels1765100000002 implements MigrationInterface {
  name = 'KeyExpiryAndModels1765100000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN expires_at timestamptz, ADD COLUMN allowed_models jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys DROP COLUMN expires_at, DROP COLUMN allowed_models`);
  }
}
