/**
 * Priced spend per gateway key, from usage-metering to every gateway replica (issue 15.5: key
 * budgets). Amounts are exact decimal strings in the prices' currency; days are UTC.
 */
export interface KeySpendIncrement {
  keyId: string;
  /** The UTC day of the calls' start, `YYYY-MM-DD`: the period a day budget counts it in (a month budget: its month). */
  day: string;
  /** The priced cost these calls added, an exact decimal string. */
  cost: string;
}

/** metering.v1.events.key-spend: the cost of records newly stored (never of a redelivered span). */
export interface KeySpendEvent {
  increments: KeySpendIncrement[];
}

/** metering.v1.key-spend.current: every key's spend per day from `since` (a gateway's start). */
export interface KeySpendQuery {
  /** The first UTC day to sum, `YYYY-MM-DD` (the current month's first day). */
  since: string;
}

export interface KeySpendTotals {
  spend: KeySpendIncrement[];
}
