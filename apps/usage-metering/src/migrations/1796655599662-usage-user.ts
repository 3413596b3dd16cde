import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 17 item 5: the cost report groups by user, the end user a call was made for (OpenAI's
 * `user`, Anthropic's `metadata.user_id`, an OTLP span's `user.id` / `enduser.id`). Nullable.
 */
export class UsageUser1796655599662 implements MigrationInterface {
  name = 'UsageUser1796655599662';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records ADD COLUMN user_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records DROP COLUMN user_id`);
  }
}
