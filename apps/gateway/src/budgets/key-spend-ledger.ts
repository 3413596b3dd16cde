import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import type { KeySpendIncrement } from '#libs/contracts';
import { Decimal, formatDecimal, isDecimalString, parseDecimal } from '#libs/money';
import { Clock } from '#libs/runtime';
import type { Principal, PrincipalBudget } from '../auth/principal.js';
import { BUDGET_CURRENCY, monthStartDay, periodEndOf, periodKeyOf, periodKeysOfDay, periodsAt, type CurrentPeriods } from './budget-periods.js';

/** A hard budget that is spent: what the 429 says. */
export interface BudgetRefusal {
  message: string;
  /** Seconds until the period resets (the answer's retry-after). */
  retryAfterSeconds: number;
}

/** A budget crossed in the current period, for the soft alert. */
export interface BudgetCrossing {
  keyId: string;
  budget: PrincipalBudget;
  /** The period's start day `YYYY-MM-DD` (a month: its first day). */
  periodStart: string;
  spent: Decimal;
}

/**
 * Every key's priced spend per UTC day and month, in memory on each gateway replica (issue 15.5,
 * key budgets). Metering reports what newly stored records cost (`metering.v1.events.key-spend`,
 * batched); a replica loads the month so far at start (`metering.v1.key-spend.current`). The hot
 * path reads it with two map lookups (`refusal`), never a round trip. Spend lags the calls by the
 * metering pipeline (about a second): a hard budget stops a key once the spend is known, so calls
 * already in flight when it is crossed may overshoot it (README: Gateway keys).
 */
@Injectable()
export class KeySpendLedger implements OnApplicationShutdown {
  private readonly logger = new Logger(KeySpendLedger.name);
  /** keyId -> period key (`d:YYYY-MM-DD`, `m:YYYY-MM`) -> spend. */
  private readonly spend = new Map<string, Map<string, Decimal>>();
  private periods: CurrentPeriods;
  private stopped = false;
  private loaded = false;

  constructor(
    private readonly bus: BusClient,
    private readonly clock: Clock,
  ) {
    this.periods = periodsAt(clock.now().getTime());
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  /**
   * Loads the month so far, retrying until metering answers (subscribe to the events first). Spend
   * already noted from events is kept where it is larger, so an event that arrived while the query
   * ran is not counted twice.
   */
  async start(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const totals = await this.bus.request('metering.v1.key-spend.current', { since: monthStartDay(this.clock.now().getTime()) });
        const loaded = new Map<string, Map<string, Decimal>>();
        for (const row of totals.spend) addInto(loaded, row);
        for (const [keyId, periods] of loaded) {
          const known = this.periodsOf(keyId);
          for (const [period, amount] of periods) {
            const current = known.get(period);
            if (current === undefined || amount.gt(current)) known.set(period, amount);
          }
        }
        this.loaded = true;
        this.logger.log(`key spend loaded: ${loaded.size} keys`);
        return;
      } catch (err) {
        const delay = Math.min(200 * attempt, 2000);
        this.logger.warn(`key spend not loaded yet (${String((err as Error).message ?? err)}); retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }

  /** Folds in one event's increments; malformed ones are skipped (and logged), never thrown. */
  add(increments: readonly KeySpendIncrement[]): void {
    for (const inc of increments) {
      if (typeof inc?.keyId !== 'string' || typeof inc.day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(inc.day) || !isDecimalString(inc.cost)) {
        this.logger.warn(`skipped a malformed key spend increment: ${JSON.stringify(inc).slice(0, 200)}`);
        continue;
      }
      addInto(this.spend, inc);
    }
  }

  /** What the key spent in the budget's current period. */
  spent(keyId: string, budget: PrincipalBudget): Decimal {
    return this.spend.get(keyId)?.get(periodKeyOf(this.current(), budget.period)) ?? ZERO;
  }

  /** Hot path: why a key with a spent hard budget is refused; undefined lets it through. */
  refusal(principal: Principal): BudgetRefusal | undefined {
    const budget = principal.budget;
    if (!budget || budget.mode !== 'hard') return undefined;
    const periods = this.current();
    const spent = this.spend.get(principal.keyId)?.get(periodKeyOf(periods, budget.period));
    if (spent === undefined || spent.lt(budget.amount)) return undefined;
    const resetsMs = periodEndOf(periods, budget.period);
    const retryAfterSeconds = Math.max(1, Math.ceil((resetsMs - this.clock.now().getTime()) / 1000));
    const which = budget.period === 'day' ? 'daily' : 'monthly';
    return {
      message: `This gateway key's ${which} budget of ${formatDecimal(budget.amount)} ${BUDGET_CURRENCY} is spent (${formatDecimal(spent)} ${BUDGET_CURRENCY} this ${budget.period}); it resets at ${new Date(resetsMs).toISOString()}.`,
      retryAfterSeconds,
    };
  }

  /** Whether the key's budget is crossed in its current period (for the soft alert). */
  crossing(keyId: string, budget: PrincipalBudget): BudgetCrossing | undefined {
    const periods = this.current();
    const spent = this.spend.get(keyId)?.get(periodKeyOf(periods, budget.period));
    if (spent === undefined || spent.lt(budget.amount)) return undefined;
    const periodStart = budget.period === 'day' ? periods.day.slice(2) : `${periods.month.slice(2)}-01`;
    return { keyId, budget, periodStart, spent };
  }

  /** The current periods; on a new day, spend of periods gone is dropped. */
  private current(): CurrentPeriods {
    const now = this.clock.now().getTime();
    if (now >= this.periods.dayEndsMs) {
      this.periods = periodsAt(now);
      const { day, month } = this.periods;
      for (const periods of this.spend.values()) for (const key of periods.keys()) if (key !== day && key !== month && !isFuture(key, day, month)) periods.delete(key);
    }
    return this.periods;
  }

  private periodsOf(keyId: string): Map<string, Decimal> {
    let periods = this.spend.get(keyId);
    if (!periods) this.spend.set(keyId, (periods = new Map()));
    return periods;
  }
}

const ZERO = new Decimal(0);

function addInto(map: Map<string, Map<string, Decimal>>, inc: KeySpendIncrement): void {
  let periods = map.get(inc.keyId);
  if (!periods) map.set(inc.keyId, (periods = new Map()));
  const cost = parseDecimal(inc.cost);
  const keys = periodKeysOfDay(inc.day);
  periods.set(keys.day, (periods.get(keys.day) ?? ZERO).plus(cost));
  periods.set(keys.month, (periods.get(keys.month) ?? ZERO).plus(cost));
}

/** Spend of a later period (a call that started just after midnight, noted before this replica's clock turned) is kept. */
function isFuture(key: string, day: string, month: string): boolean {
  return key.startsWith('d:') ? key > day : key > month;
}
