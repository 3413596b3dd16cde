import { parseDecimal } from '#libs/money';
import type { TierConditionView } from '#libs/contracts';
import { conditionHolds, selectTier, type PriceTier } from './price-tier.js';
import type { UsageSplit } from './usage-split.js';

function split(s: Partial<UsageSplit>): UsageSplit {
  return { input: 0n, output: 0n, cache_read: 0n, cache_write: 0n, reasoning: 0n, ...s };
}

const ALL_INPUT = ['input', 'cache_read', 'cache_write'] as const;
const OVER_200K: TierConditionView = { usageTypes: [...ALL_INPUT], operator: 'gt', value: 200_000 };

function tier(name: string, isDefault: boolean, priority: number, conditions: TierConditionView[]): PriceTier {
  return { name, isDefault, priority, conditions, prices: { input: parseDecimal('0.000001') } };
}

describe('conditionHolds', () => {
  it.each([
    ['gt', 200_000n, false],
    ['gt', 200_001n, true],
    ['gte', 200_000n, true],
    ['gte', 199_999n, false],
    ['lt', 199_999n, true],
    ['lt', 200_000n, false],
    ['lte', 200_000n, true],
    ['lte', 200_001n, false],
    ['eq', 200_000n, true],
    ['eq', 200_001n, false],
    ['neq', 200_001n, true],
    ['neq', 200_000n, false],
  ] as const)('%s 200,000 with %s input tokens: %s', (operator, tokens, holds) => {
    expect(conditionHolds({ usageTypes: ['input'], operator, value: 200_000 }, split({ input: tokens }))).toBe(holds);
  });

  it('sums the tokens of every usage type named (input tokens = uncached + cache read + cache write)', () => {
    expect(conditionHolds(OVER_200K, split({ input: 100_000n, cache_read: 60_000n, cache_write: 40_000n }))).toBe(false);
    expect(conditionHolds(OVER_200K, split({ input: 100_000n, cache_read: 60_000n, cache_write: 40_001n }))).toBe(true);
    expect(conditionHolds(OVER_200K, split({ output: 900_000n }))).toBe(false);
  });
});

describe('selectTier', () => {
  const standard = tier('standard', true, 0, []);
  const long = tier('long context', false, 1, [OVER_200K]);

  it('takes the default tier when no conditional tier applies, the conditional one across the boundary', () => {
    expect(selectTier([standard, long], split({ input: 200_000n }))?.name).toBe('standard');
    expect(selectTier([standard, long], split({ input: 200_001n }))?.name).toBe('long context');
  });

  it('needs every condition of a tier to hold', () => {
    const both = tier('both', false, 1, [OVER_200K, { usageTypes: ['output'], operator: 'gte', value: 10 }]);
    expect(selectTier([standard, both], split({ input: 300_000n, output: 9n }))?.name).toBe('standard');
    expect(selectTier([standard, both], split({ input: 300_000n, output: 10n }))?.name).toBe('both');
  });

  it('tries conditional tiers in ascending priority, whatever order they are listed in', () => {
    const huge = tier('huge', false, 2, [{ usageTypes: ['input'], operator: 'gt', value: 1_000_000 }]);
    const first = tier('first', false, 0, [{ usageTypes: ['input'], operator: 'gt', value: 500_000 }]);
    expect(selectTier([huge, standard, long, first], split({ input: 2_000_000n }))?.name).toBe('first');
    expect(selectTier([huge, standard, long, first], split({ input: 300_000n }))?.name).toBe('long context');
  });
});
