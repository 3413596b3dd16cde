import type { BudgetPeriod } from '#libs/contracts';

/** The currency of every price a definition holds (usage-metering reports in it too): budgets' currency. */
export const BUDGET_CURRENCY = 'USD';

/** The UTC day and month an instant falls in, and when each ends: what a budget counts against. */
export interface CurrentPeriods {
  /** `d:YYYY-MM-DD` */
  day: string;
  /** `m:YYYY-MM` */
  month: string;
  dayEndsMs: number;
  monthEndsMs: number;
}

export function periodsAt(nowMs: number): CurrentPeriods {
  const d = new Date(nowMs);
  const iso = d.toISOString();
  return {
    day: `d:${iso.slice(0, 10)}`,
    month: `m:${iso.slice(0, 7)}`,
    dayEndsMs: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1),
    monthEndsMs: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  };
}

/** The period keys a day's spend (`YYYY-MM-DD`) counts in. */
export function periodKeysOfDay(day: string): { day: string; month: string } {
  return { day: `d:${day}`, month: `m:${day.slice(0, 7)}` };
}

export function periodKeyOf(periods: CurrentPeriods, period: BudgetPeriod): string {
  return period === 'day' ? periods.day : periods.month;
}

export function periodEndOf(periods: CurrentPeriods, period: BudgetPeriod): number {
  return period === 'day' ? periods.dayEndsMs : periods.monthEndsMs;
}

/** The first day of the month of `nowMs`, `YYYY-MM-DD`: from where a replica loads spend at start. */
export function monthStartDay(nowMs: number): string {
  return `${new Date(nowMs).toISOString().slice(0, 7)}-01`;
}
