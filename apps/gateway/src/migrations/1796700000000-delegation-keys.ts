import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The signing key of delegated tokens (apps/gateway/src/delegation/delegated-tokens.ts), shared by every replica. */
export class DelegationKeys1796700000000 implements MigrationInterface {
  name = 'DelegationKeys1796700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE delegation_keys (id smallint PRIMARY KEY CHECK (id = 1), secret text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE delegation_keys`);
  }
}
