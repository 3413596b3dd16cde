import { createAuditLogTable, dropAuditLogTable } from '#libs/db';
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
    await createAuditLogTable(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropAuditLogTable(q);
  }
}
