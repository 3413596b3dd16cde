import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 17 item 5: the cost report groups by provider, connection and provider model (the gateway
 * model a caller named). Nullable: records stored before, and OTLP spans, may not know them.
 */
export class UsageCallDimensions1796653743409 implements MigrationInterface {
  name = 'UsageCallDimensions1796653743409';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records ADD COLUMN provider text, ADD COLUMN connection_id text, ADD COLUMN provider_model text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records DROP COLUMN provider, DROP COLUMN connection_id, DROP COLUMN provider_model`);
  }
}
