import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Issue 16.4: which configuration file manages a provider model (config:<file>), null when it is managed through the API. */
export class ProviderModelManagedBy1796970000000 implements MigrationInterface {
  name = 'ProviderModelManagedBy1796970000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE provider_models ADD COLUMN managed_by text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE provider_models DROP COLUMN managed_by`);
  }
}
