import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 11: the registry's audit log, in its own schema: who created or deleted which provider
 * model or model definition, or tried to and was refused (libs/tenancy AuditEntry).
 */
export class RegistryAuditLog1733560000000 implements MigrationInterface {
  name = 'RegistryAuditLog1733560000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        id text PRIMARY KEY,
        organisation_id text,
        project_id text,
        actor_key_id text NOT NULL,
        actor_name text NOT NULL,
        actor_project_id text,
        action text NOT NULL,
        target_id text,
        outcome text NOT NULL CHECK (outcome IN ('succeeded', 'denied', 'failed')),
        reason text,
        at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_log_org_at ON audit_log (organisation_id, at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
  }
}
