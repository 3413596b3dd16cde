import type { MigrationInterface, QueryRunner } from 'typeorm';

const ACTIONS_BEFORE = `'connection.created', 'connection.updated', 'connection.deleted', 'connection.revealed', 'connection.tested', 'master_key.rotated'`;

/**
 * Issue 16.3-4: secrets read from the environment (field -> variable name, in clear: a variable's
 * name is not a secret), the file a connection is managed by (configuration as code), and the
 * audit action of a configuration import.
 */
export class VaultEnvKeysConfig1796960000000 implements MigrationInterface {
  name = 'VaultEnvKeysConfig1796960000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections ADD COLUMN secret_env_vars jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE connections ADD COLUMN managed_by text`);
    await q.query(`ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check`);
    await q.query(`ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN (${ACTIONS_BEFORE}, 'config.imported'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM audit_log WHERE action = 'config.imported'`);
    await q.query(`ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check`);
    await q.query(`ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN (${ACTIONS_BEFORE}))`);
    await q.query(`ALTER TABLE connections DROP COLUMN managed_by`);
    await q.query(`ALTER TABLE connections DROP COLUMN secret_env_vars`);
  }
}
