import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15.5: a soft budget is audited once per key and period, however many replicas hear the
 * spend cross it: the first to insert the (key, period) row writes the audit entry.
 */
export class KeyBudgetAlerts1765100000004 implements MigrationInterface {
  name = 'KeyBudgetAlerts1765100000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE key_budget_alerts (
        key_id text NOT NULL,
        period text NOT NULL,
        period_start date NOT NULL,
        alerted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (key_id, period, period_start)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE key_budget_alerts`);
  }
}
