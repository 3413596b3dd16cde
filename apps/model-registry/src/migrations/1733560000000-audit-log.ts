import { createAuditLogTable, dropAuditLogTable } from '#libs/db';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 11: the registry's audit log, in its own schema: who created or deleted which provider
 * model or model definition, or tried to and was refused (libs/tenancy AuditEntry).
 */
export class RegistryAuditLog1733560000000 implements MigrationInterface {
  name = 'RegistryAuditLog1733560000000';

  async up(q: QueryRunner): Promise<void> {
    await createAuditLogTable(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropAuditLogTable(q);
  }
}
