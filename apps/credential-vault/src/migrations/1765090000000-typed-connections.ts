import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issues 13 and 16: typed connections (the adapter's plain settings in clear, the last 4 characters
 * of each secret field for masked views), a slug for `slug/model` addressing, and a status.
 * Existing rows get a slug from their name (the same rule as slugOfName in libs/contracts: lower
 * case, other runs of characters as one -, at most 40), numbered where two names give the same
 * slug; their sealed payload ({apiKey, headers}) stays readable as it is.
 */
export class VaultTypedConnections1765090000000 implements MigrationInterface {
  name = 'VaultTypedConnections1765090000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE connections ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE connections ADD COLUMN secret_last4 jsonb NOT NULL DEFAULT '{}'`);
    await q.query(
      `ALTER TABLE connections ADD COLUMN status text NOT NULL DEFAULT 'active' CONSTRAINT connections_status CHECK (status IN ('active', 'inactive', 'error'))`,
    );
    await q.query(`ALTER TABLE connections ADD COLUMN last_error text`);
    await q.query(`ALTER TABLE connections ADD COLUMN last_error_at timestamptz(3)`);
    await q.query(`ALTER TABLE connections ADD COLUMN slug text`);
    // Old rows' masked views keep showing their key under secretsMasked too.
    await q.query(`UPDATE connections SET secret_last4 = jsonb_build_object('apiKey', api_key_last4)`);
    await q.query(`
      WITH base AS (
        SELECT id, organisation_id,
               coalesce(nullif(rtrim(left(trim(both '-' from regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g')), 40), '-'), ''), 'connection') AS slug
          FROM connections
      ), numbered AS (
        SELECT id, slug, row_number() OVER (PARTITION BY organisation_id, slug ORDER BY id) AS n FROM base
      )
      UPDATE connections c
         SET slug = CASE WHEN n.n = 1 THEN n.slug ELSE left(n.slug, 40 - length(n.n::text) - 1) || '-' || n.n END
        FROM numbered n
       WHERE c.id = n.id`);
    await q.query(`ALTER TABLE connections ALTER COLUMN slug SET NOT NULL`);
    await q.query(`ALTER TABLE connections ADD CONSTRAINT connections_org_slug UNIQUE (organisation_id, slug)`);
    await q.query(`ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check`);
    await q.query(
      `ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('connection.created', 'connection.updated', 'connection.deleted', 'connection.revealed', 'connection.tested', 'master_key.rotated'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM audit_log WHERE action IN ('connection.updated', 'connection.tested')`);
    await q.query(`ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check`);
    await q.query(`ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('connection.created', 'connection.deleted', 'connection.revealed', 'master_key.rotated'))`);
    await q.query(`ALTER TABLE connections DROP CONSTRAINT connections_org_slug`);
    for (const column of ['slug', 'last_error_at', 'last_error', 'status', 'secret_last4', 'settings']) await q.query(`ALTER TABLE connections DROP COLUMN ${column}`);
  }
}
