import { formatDecimal } from '#libs/money';
import { definitionView } from '../../../../test/support/model-definition-view.js';
import { PriceCatalogue } from './price-catalogue.js';
import type { TokenUsage } from './token-usage.js';
import { priceUsage, type PricingOutcome } from './usage-pricer.js';

const JAN = '2025-01-01T00:00:00.000Z';
const JUNE = '2025-06-01T00:00:00.000Z';

function usage(u: Partial<TokenUsage>): TokenUsage {
  return { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n, reasoning: 0n, ...u };
}

function cost(outcome: PricingOutcome): { cost: string; tier: string; effectiveFrom: string } | string {
  if (!outcome.priced) return outcome.reason;
  return { cost: formatDecimal(outcome.cost), tier: outcome.tier, effectiveFrom: outcome.priceEffectiveFrom.toISOString() };
}

/** Gemini 2.5 Pro's published shape: dearer input and output above 200,000 prompt tokens (cached included). */
const LONG_CONTEXT = {
  name: 'long context',
  isDefault: false,
  priority: 1,
  conditions: [{ usageTypes: ['input' as const, 'cache_read' as const, 'cache_write' as const], operator: 'gt' as const, value: 200_000 }],
  prices: { input: '0.0000025', cache_read: '0.00000025', output: '0.000015' },
};
const STANDARD = { name: 'standard', isDefault: true, priority: 0, conditions: [], prices: { input: '0.00000125', cache_read: '0.000000125', output: '0.00001' } };

const catalogue = PriceCatalogue.build([
  definitionView({
    id: 'def_tiered',
    matchPattern: '^gemini-2.5-pro$',
    priceVersions: [
      { effectiveFrom: JAN, prices: STANDARD.prices, tiers: [STANDARD, LONG_CONTEXT] },
      // The price change: from June, the default tier's input costs twice as much.
      { effectiveFrom: JUNE, prices: { ...STANDARD.prices, input: '0.0000025' }, tiers: [{ ...STANDARD, prices: { ...STANDARD.prices, input: '0.0000025' } }, LONG_CONTEXT] },
    ],
  }),
]);

function price(u: Partial<TokenUsage>, startedAt: string): ReturnType<typeof cost> {
  return cost(priceUsage({ organisationId: 'org_a', projectId: null, model: 'gemini-2.5-pro', startedAt: new Date(startedAt), usage: usage(u) }, catalogue));
}

describe('priceUsage with price versions and tiers', () => {
  it('prices each call with the version in force at its start, across a price change', () => {
    // 1000 x 0.00000125 + 100 x 0.00001 = 0.00125 + 0.001 = 0.00225
    expect(price({ input: 1000n, output: 100n }, '2025-05-31T23:59:59.999Z')).toEqual({ cost: '0.00225', tier: 'standard', effectiveFrom: JAN });
    // 1000 x 0.0000025 + 100 x 0.00001 = 0.0025 + 0.001 = 0.0035
    expect(price({ input: 1000n, output: 100n }, JUNE)).toEqual({ cost: '0.0035', tier: 'standard', effectiveFrom: JUNE });
  });

  it('prices a call at exactly 200,000 input tokens at the default tier, one token more wholly at the long-context tier', () => {
    // 150,000 uncached + 50,000 cache read = 200,000: not above. 150000 x 0.00000125 + 50000 x 0.000000125 + 1000 x 0.00001
    // = 0.1875 + 0.00625 + 0.01 = 0.20375
    expect(price({ input: 200_000n, cacheRead: 50_000n, output: 1000n }, '2025-03-01T00:00:00Z')).toEqual({ cost: '0.20375', tier: 'standard', effectiveFrom: JAN });
    // 150,001 uncached + 50,000 cache read = 200,001: 150001 x 0.0000025 + 50000 x 0.00000025 + 1000 x 0.000015
    // = 0.3750025 + 0.0125 + 0.015 = 0.4025025
    expect(price({ input: 200_001n, cacheRead: 50_000n, output: 1000n }, '2025-03-01T00:00:00Z')).toEqual({ cost: '0.4025025', tier: 'long context', effectiveFrom: JAN });
  });

  it('keeps the tier rule across the price change: the long-context tier is the same in both versions', () => {
    // 300000 x 0.0000025 = 0.75 in both versions
    expect(price({ input: 300_000n }, '2025-03-01T00:00:00Z')).toEqual({ cost: '0.75', tier: 'long context', effectiveFrom: JAN });
    expect(price({ input: 300_000n }, '2025-07-01T00:00:00Z')).toEqual({ cost: '0.75', tier: 'long context', effectiveFrom: JUNE });
  });

  it('falls back within the chosen tier: reasoning at the tier’s output price', () => {
    // output 1000 of which 400 reasoning, all at 0.000015 (long context) = 0.015; input 250000 x 0.0000025 = 0.625
    expect(price({ input: 250_000n, output: 1000n, reasoning: 400n }, '2025-03-01T00:00:00Z')).toEqual({ cost: '0.64', tier: 'long context', effectiveFrom: JAN });
  });
});
