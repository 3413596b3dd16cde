import { USAGE_PRICE_FALLBACK, USAGE_TYPES, type UsageType } from '#libs/contracts';
import { formatDecimal, sumDecimals, type Decimal } from '#libs/money';
import type { UsageSplit } from './usage-split.js';

/** Prices per token by usage type, as one price version gives them. */
export type PriceSheet = Partial<Record<UsageType, Decimal>>;

/** Where a part without its own price takes its price from (DESIGN.md: never silently zero). */
export const PRICE_FALLBACK = USAGE_PRICE_FALLBACK;

export type CostResult =
  | { ok: true; cost: Decimal; breakdown: Partial<Record<UsageType, string>> }
  | { ok: false; missing: UsageType };

/** A part's price: its own, else its parent's, else none. */
export function priceFor(prices: PriceSheet, type: UsageType): Decimal | undefined {
  const own = prices[type];
  if (own !== undefined) return own;
  const parent = PRICE_FALLBACK[type];
  return parent === undefined ? undefined : prices[parent];
}

/**
 * The exact cost of a split usage: each part's tokens times its price, summed in decimal with
 * every digit kept. A part with tokens but no price (own or parent's) makes the whole call
 * unpriced; a part with no tokens needs no price. The breakdown lists the parts that had tokens.
 */
export function computeCost(split: UsageSplit, prices: PriceSheet): CostResult {
  const parts: Decimal[] = [];
  const breakdown: Partial<Record<UsageType, string>> = {};
  for (const type of USAGE_TYPES) {
    const tokens = split[type] ?? 0n;
    if (tokens === 0n) continue;
    const price = priceFor(prices, type);
    if (price === undefined) return { ok: false, missing: type };
    const cost = price.times(tokens);
    parts.push(cost);
    breakdown[type] = formatDecimal(cost);
  }
  return { ok: true, cost: sumDecimals(parts), breakdown };
}
