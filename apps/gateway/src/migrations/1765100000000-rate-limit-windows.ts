import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15.4: the per-minute budgets' shared state. Each replica leases slices of a limit's minute
 * (RateLimitLeasesRepository); a row holds how much of one limit's minute all replicas leased.
 */
export class RateLimitWindows1765100000000 implements MigrationInterface {
  name = 'RateLimitWindows1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rate_limit_windows (
        limit_key text NOT NULL,
        window_start bigint NOT NULL,
        leased bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (limit_key, window_start)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rate_limit_windows`);
  }
}
