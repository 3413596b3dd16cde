import type { UsageType } from '#libs/contracts';
import type { Decimal } from '#libs/money';
import { computeCost } from './cost-calculator.js';
import type { PriceCatalogue, PriceLookup } from './price-catalogue.js';
import { selectTier } from './price-tier.js';
import type { TokenUsage } from './token-usage.js';
import { splitUsage } from './usage-split.js';

/** Why a call has no cost. Listed in reports; never replaced by $0. */
export type UnpricedReason = 'no_matching_definition' | 'no_price_in_force' | 'inconsistent_usage' | 'usage_missing' | `missing_price:${UsageType}`;

export type PricingOutcome =
  | { priced: true; definitionId: string; priceEffectiveFrom: Date; tier: string; cost: Decimal; breakdown: Partial<Record<UsageType, string>> }
  | { priced: false; reason: UnpricedReason; definitionId: string | null; priceEffectiveFrom: Date | null };

export interface PricingRequest extends PriceLookup {
  usage: TokenUsage;
}

/** Usage that cannot be priced whatever the definitions say; such records are not re-priced. */
export const INCONSISTENT_USAGE: UnpricedReason = 'inconsistent_usage';

/** A call whose usage could not be read: nothing to price, whatever the definitions say; never $0. */
export const USAGE_MISSING: UnpricedReason = 'usage_missing';

/** Reasons no definition change can remove: re-pricing leaves these records alone. */
export const UNREPRICEABLE_REASONS: readonly UnpricedReason[] = [INCONSISTENT_USAGE, USAGE_MISSING];

/**
 * Prices one call: split the usage (inconsistent counts stop here), find the definition and the
 * price version in force at the call's start, choose the version's tier for this usage (selectTier),
 * multiply each part by the tier's price in decimal.
 */
export function priceUsage(request: PricingRequest, catalogue: PriceCatalogue): PricingOutcome {
  const split = splitUsage(request.usage);
  if (split === null) return unpriced(INCONSISTENT_USAGE);
  const resolution = catalogue.resolve(request);
  if (!resolution.found) return unpriced(resolution.reason, resolution.definitionId);
  const tier = selectTier(resolution.tiers, split);
  if (!tier) return unpriced('no_price_in_force', resolution.definitionId, resolution.effectiveFrom);
  const result = computeCost(split, tier.prices);
  if (!result.ok) return unpriced(`missing_price:${result.missing}`, resolution.definitionId, resolution.effectiveFrom);
  return { priced: true, definitionId: resolution.definitionId, priceEffectiveFrom: resolution.effectiveFrom, tier: tier.name, cost: result.cost, breakdown: result.breakdown };
}

export function unpriced(reason: UnpricedReason, definitionId: string | null = null, priceEffectiveFrom: Date | null = null): PricingOutcome {
  return { priced: false, reason, definitionId, priceEffectiveFrom };
}
