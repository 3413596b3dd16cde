import { Injectable, Logger } from '@nestjs/common';
import { formatDecimal } from '#libs/money';
import { AuditLog } from '#libs/db';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { BUDGET_CURRENCY } from './budget-periods.js';
import type { BudgetCrossing } from './key-spend-ledger.js';

export const BUDGET_ALERT_ACTION = 'gateway_key.budget_exceeded';

/**
 * The soft budget's alert: one audit entry per key and period once its spend crosses the amount
 * (hard budgets too: the entry says when a key was stopped). Every replica hears the spend; the
 * (key, period) row decides which one writes, in the entry's own transaction. A replica remembers
 * what it has already claimed, so a crossed budget costs one insert per replica and period.
 */
@Injectable()
export class BudgetAlerts {
  private readonly logger = new Logger(BudgetAlerts.name);
  private readonly claimed = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  async alert(principal: Principal, crossing: BudgetCrossing): Promise<boolean> {
    const id = `${crossing.keyId}\u0000${crossing.budget.period}\u0000${crossing.periodStart}`;
    if (this.claimed.has(id)) return false;
    const written = await this.audit.transaction(async (manager) => {
      const rows: unknown[] = await manager.query(
        `INSERT INTO key_budget_alerts (key_id, period, period_start) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING key_id`,
        [crossing.keyId, crossing.budget.period, crossing.periodStart],
      );
      if (rows.length === 0) return false;
      const b = crossing.budget;
      await this.audit.record(
        {
          organisationId: principal.organisationId,
          projectId: principal.projectId,
          actor: { keyId: 'system', name: 'gateway' },
          actorProjectId: null,
          action: BUDGET_ALERT_ACTION,
          targetId: crossing.keyId,
          outcome: 'succeeded',
          reason: `${b.mode} ${b.period} budget of ${formatDecimal(b.amount)} ${BUDGET_CURRENCY} crossed: ${formatDecimal(crossing.spent)} ${BUDGET_CURRENCY} spent in the ${b.period} from ${crossing.periodStart}`,
        },
        manager,
      );
      return true;
    });
    this.claimed.add(id);
    if (written) this.logger.warn(`gateway key ${crossing.keyId}: ${crossing.budget.period} budget crossed`);
    return written;
  }
}
