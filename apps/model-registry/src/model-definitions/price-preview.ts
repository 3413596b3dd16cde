import { USAGE_PRICE_FALLBACK, USAGE_TYPES, type PricePreviewView, type PriceVersionView, type UsageType, type UsageTypePriceView } from '#libs/contracts';
import { formatDecimal, parseDecimal } from '#libs/money';

const THOUSAND = parseDecimal('1000');
const MILLION = parseDecimal('1000000');

/** The version in force at `at`: the latest effectiveFrom at or before it; undefined when none is yet. */
export function versionInForce(versions: readonly PriceVersionView[], at: Date): PriceVersionView | undefined {
  let found: PriceVersionView | undefined;
  for (const v of versions) {
    const from = Date.parse(v.effectiveFrom);
    if (from <= at.getTime() && (found === undefined || from > Date.parse(found.effectiveFrom))) found = v;
  }
  return found;
}

/**
 * Per tier, the price of every usage type the tier prices (its own price, or its parent's by the
 * fallback rule, marked inheritedFrom) per unit, per 1K and per 1M units. All in decimal: the
 * strings are exact ("0.000000075" per unit is "0.000075" per 1K and "0.075" per 1M).
 */
export function previewOf(definitionId: string, version: PriceVersionView): PricePreviewView {
  return {
    definitionId,
    currency: 'USD',
    effectiveFrom: version.effectiveFrom,
    tiers: version.tiers.map((tier) => ({
      name: tier.name,
      isDefault: tier.isDefault,
      priority: tier.priority,
      conditions: tier.conditions,
      usageTypes: USAGE_TYPES.flatMap((usageType): UsageTypePriceView[] => {
        const own = tier.prices[usageType];
        const parent: UsageType | undefined = USAGE_PRICE_FALLBACK[usageType];
        const inherited = own === undefined && parent !== undefined ? tier.prices[parent] : undefined;
        const text = own ?? inherited;
        if (text === undefined) return [];
        const perUnit = parseDecimal(text);
        return [
          {
            usageType,
            perUnit: formatDecimal(perUnit),
            per1K: formatDecimal(perUnit.times(THOUSAND)),
            per1M: formatDecimal(perUnit.times(MILLION)),
            inheritedFrom: own === undefined ? (parent ?? null) : null,
          },
        ];
      }),
    })),
  };
}
