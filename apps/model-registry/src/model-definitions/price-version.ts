import { AppError, DEFAULT_TIER_NAME, type FieldError, type PriceMap, type PriceTierDto, type TierConditionView, type UsageType } from '#libs/contracts';
import { normalisePrices } from './price-decimal.js';

/** One tier of a price version, checked and with every price in its one written form. */
export interface NormalisedTier {
  name: string;
  isDefault: boolean;
  priority: number;
  conditions: TierConditionView[];
  prices: [UsageType, string][];
}

/**
 * The tiers of a new price version: a plain `prices` map is one default tier; `tiers` must hold
 * exactly one default tier without conditions, and conditional tiers with at least one condition,
 * distinct names and distinct priorities (so the order they are tried in is never a coin toss).
 * Default first, then the others by priority.
 */
export function normalisePriceVersion(input: { prices?: PriceMap; tiers?: PriceTierDto[] }): NormalisedTier[] {
  if ((input.prices === undefined) === (input.tiers === undefined)) {
    throw AppError.validation([{ field: 'prices', messages: ['give either prices (one default tier) or tiers, not both and not neither'] }]);
  }
  if (input.prices !== undefined) return [{ name: DEFAULT_TIER_NAME, isDefault: true, priority: 0, conditions: [], prices: normalisePrices(input.prices) }];

  const tiers = input.tiers ?? [];
  const problems: FieldError[] = [];
  const defaults = tiers.filter((t) => t.isDefault);
  if (defaults.length !== 1) problems.push({ field: 'tiers', messages: [`exactly one tier must be the default (isDefault: true); found ${defaults.length}`] });
  const names = new Set<string>();
  const priorities = new Set<number>();
  tiers.forEach((t, i) => {
    const conditions = t.conditions ?? [];
    if (names.has(t.name)) problems.push({ field: `tiers.${i}.name`, messages: [`tier name ${t.name} is used twice`] });
    names.add(t.name);
    if (t.isDefault && conditions.length > 0) problems.push({ field: `tiers.${i}.conditions`, messages: ['the default tier applies when no other does: it has no conditions'] });
    if (!t.isDefault) {
      if (conditions.length === 0) problems.push({ field: `tiers.${i}.conditions`, messages: ['a tier that is not the default needs at least one condition'] });
      const priority = t.priority ?? 0;
      if (priorities.has(priority)) problems.push({ field: `tiers.${i}.priority`, messages: [`two tiers have priority ${priority}; tiers are tried in priority order, so each needs its own`] });
      priorities.add(priority);
    }
  });
  if (problems.length > 0) throw AppError.validation(problems);

  const normalised = tiers.map((t, i) => ({
    name: t.name,
    isDefault: t.isDefault,
    priority: t.isDefault ? 0 : (t.priority ?? 0),
    conditions: (t.conditions ?? []).map((c) => ({ usageTypes: [...new Set(c.usageTypes)], operator: c.operator, value: c.value })),
    prices: withField(`tiers.${i}.prices`, () => normalisePrices(t.prices)),
  }));
  return normalised.sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.priority - b.priority);
}

function withField<T>(field: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof AppError && Array.isArray(err.details)) {
      throw AppError.validation((err.details as FieldError[]).map((d) => ({ ...d, field })));
    }
    throw err;
  }
}
