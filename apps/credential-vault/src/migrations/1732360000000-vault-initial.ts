import type { MigrationInterface, QueryRunner } from 'typeorm';

export class VaultInitial1732360000000 implements MigrationInterface {
  name = 'VaultInitial1732360000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE connections (
        id text PRIMARY KEY,
        organisation_id text NOT NULL,
        project_id text,
        name text NOT NULL,
        adapter text NOT NULL,
        base_url text NOT NULL,
        secret_ciphertext bytea NOT NULL,
        wrapped_data_key bytea NOT NULL,
        master_key_id text NOT NULL,
        api_key_last4 text,
        header_names text[] NOT NULL DEFAULT '{}',
        header_value_last4 text[] NOT NULL DEFAULT '{}',
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT connections_org_name UNIQUE (organisation_id, name),
        CONSTRAINT connections_header_arrays CHECK (cardinality(header_names) = cardinality(header_value_last4))
      )`);
    await q.query(`CREATE INDEX connections_org_created ON connections (organisation_id, created_at, id)`);
    // Start-up rotation looks for rows still wrapped by a retired master key.
    await q.query(`CREATE INDEX connections_master_key ON connections (master_key_id)`);
    await q.query(`
      CREATE TABLE audit_log (
        id text PRIMARY KEY,
        organisation_id text NOT NULL,
        project_id text,
        actor_key_id text NOT NULL,
        actor_name text NOT NULL,
        action text NOT NULL CHECK (action IN ('connection.created', 'connection.deleted', 'connection.revealed', 'master_key.rotated')),
        target_id text NOT NULL,
        details jsonb,
        at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_log_org_at ON audit_log (organisation_id, at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
    await q.query(`DROP TABLE connections`);
  }
}
