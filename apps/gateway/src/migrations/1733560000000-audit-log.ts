import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 11: the gateway's own audit log, in its own schema, of what it decides itself: gateway
 * key creation and revocation (with every outcome) and /admin attempts refused at the door (no
 * key, an unknown key, a client key). Same shape as the vault's (libs/tenancy AuditEntry).
 * organisation_id is null only for a caller whose key was missing or unknown.
 */
export class GatewayAuditLog1733560000000 implements MigrationInterface {
  name = 'GatewayAuditLog1733560000000';

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
