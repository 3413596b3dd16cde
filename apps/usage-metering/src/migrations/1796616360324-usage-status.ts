import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every call the gateway answered gets a record, also one whose usage could not be read (issue 12
 * item 7): usage_status says whether the record's usage was reported in full, partly (a stream cut
 * short) or is missing, and error_type what kind of failure the call met. Money columns unchanged.
 */
export class UsageStatus1796616360324 implements MigrationInterface {
  name = 'UsageStatus1796616360324';

  async up(q: QueryRunner): Promise<void> {
    // Every record stored so far had usage. A constant default is only catalogue work (no rewrite of
    // the table); dropping it afterwards makes every writer say the status, rather than inherit one.
    await q.query(`ALTER TABLE usage_records ADD COLUMN usage_status text NOT NULL DEFAULT 'reported'`);
    await q.query(`ALTER TABLE usage_records ALTER COLUMN usage_status DROP DEFAULT`);
    await q.query(`ALTER TABLE usage_records ADD COLUMN error_type text`);
    // NOT VALID skips scanning the existing rows: they are all 'reported', which both constraints allow.
    await q.query(`ALTER TABLE usage_records ADD CONSTRAINT usage_records_usage_status CHECK (usage_status IN ('reported', 'partial', 'missing')) NOT VALID`);
    // A call without usage has no cost (never $0), a reason that says so, and no token counts.
    await q.query(`
      ALTER TABLE usage_records ADD CONSTRAINT usage_records_missing_unpriced CHECK (
        usage_status <> 'missing' OR (
          NOT priced AND cost IS NULL AND unpriced_reason = 'usage_missing' AND
          input_tokens = 0 AND output_tokens = 0 AND cache_read_tokens = 0 AND cache_write_tokens = 0 AND reasoning_tokens = 0
        )
      ) NOT VALID`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records DROP CONSTRAINT usage_records_missing_unpriced`);
    await q.query(`ALTER TABLE usage_records DROP CONSTRAINT usage_records_usage_status`);
    await q.query(`ALTER TABLE usage_records DROP COLUMN error_type`);
    await q.query(`ALTER TABLE usage_records DROP COLUMN usage_status`);
  }
}
