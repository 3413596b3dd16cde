import type { TierConditionView, TierOperator } from '#libs/contracts';
import type { PriceSheet } from './cost-calculator.js';
import type { UsageSplit } from './usage-split.js';

/** One pricing tier of a price version, ready to price with. */
export interface PriceTier {
  name: string;
  isDefault: boolean;
  priority: number;
  conditions: readonly TierConditionView[];
  prices: PriceSheet;
}

const COMPARE: Record<TierOperator, (tokens: bigint, value: bigint) => boolean> = {
  gt: (t, v) => t > v,
  gte: (t, v) => t >= v,
  lt: (t, v) => t < v,
  lte: (t, v) => t <= v,
  eq: (t, v) => t === v,
  neq: (t, v) => t !== v,
};

/** True when the record's tokens of the condition's usage types, summed, compare with its value as asked. */
export function conditionHolds(condition: TierConditionView, split: UsageSplit): boolean {
  let tokens = 0n;
  for (const type of condition.usageTypes) tokens += split[type] ?? 0n;
  return COMPARE[condition.operator](tokens, BigInt(condition.value));
}

/**
 * The tier that prices one usage record (Langfuse's rule): the conditional tiers in ascending
 * priority, the first whose conditions all hold; otherwise the default tier. Evaluated per record,
 * so a call over the threshold is priced wholly at the tier's prices and one under it wholly at the
 * default's. Undefined only for a version without a default tier and no tier that applies.
 */
export function selectTier(tiers: readonly PriceTier[], split: UsageSplit): PriceTier | undefined {
  let chosen: PriceTier | undefined;
  for (const tier of tiers) {
    if (tier.isDefault) continue;
    if (chosen !== undefined && chosen.priority <= tier.priority) continue;
    if (tier.conditions.length > 0 && tier.conditions.every((c) => conditionHolds(c, split))) chosen = tier;
  }
  return chosen ?? tiers.find((t) => t.isDefault);
}
