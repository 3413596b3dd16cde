import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 11: the audit log records denied and failed attempts too. Existing rows all recorded
 * something that happened, hence the default `succeeded`. A refused create has no target yet.
 */
export class VaultAuditOutcome1733560000000 implements MigrationInterface {
  name = 'VaultAuditOutcome1733560000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_log ADD COLUMN outcome text NOT NULL DEFAULT 'succeeded' CHECK (outcome IN ('succeeded', 'denied', 'failed'))`);
    await q.query(`ALTER TABLE audit_log ADD COLUMN reason text`);
    await q.query(`ALTER TABLE audit_log ADD COLUMN actor_project_id text`);
    await q.query(`ALTER TABLE audit_log ALTER COLUMN target_id DROP NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM audit_log WHERE target_id IS NULL`);
    await q.query(`ALTER TABLE audit_log ALTER COLUMN target_id SET NOT NULL`);
    await q.query(`ALTER TABLE audit_log DROP COLUMN actor_project_id`);
    await q.query(`ALTER TABLE audit_log DROP COLUMN reason`);
    await q.query(`ALTER TABLE audit_log DROP COLUMN outcome`);
  }
}
