import { DEFAULT_TIER_NAME, type ModelDefinitionView, type PriceMap, type PriceTierView } from '#libs/contracts';

/** A version as a test writes it: prices alone stand for one default tier. */
export interface VersionFixture {
  effectiveFrom: string;
  prices: PriceMap;
  tiers?: PriceTierView[];
}

export type DefinitionFixture = Partial<Omit<ModelDefinitionView, 'priceVersions'>> & { id: string; priceVersions?: VersionFixture[] };

const AT = '2025-01-01T00:00:00.000Z';

/** A whole ModelDefinitionView as the registry serves it, from the few fields a test cares about. */
export function definitionView(d: DefinitionFixture): ModelDefinitionView {
  const { priceVersions = [{ effectiveFrom: AT, prices: { input: '0.0000025', output: '0.00001' } }], ...rest } = d;
  return {
    organisationId: 'org_a',
    projectId: null,
    name: d.id,
    matchPattern: `^${d.id}$`,
    tokenizer: 'o200k_base',
    tokenCount: 'exact',
    source: 'user',
    priority: 0,
    preview: null,
    lastUsedAt: null,
    createdAt: AT,
    updatedAt: AT,
    ...rest,
    priceVersions: priceVersions.map((v) => ({
      effectiveFrom: v.effectiveFrom,
      prices: v.prices,
      tiers: v.tiers ?? [{ name: DEFAULT_TIER_NAME, isDefault: true, priority: 0, conditions: [], prices: v.prices }],
    })),
  };
}
