import { formatDecimal, parseDecimal } from '#libs/money';
import type { UsageType } from '#libs/contracts';
import { computeCost, type PriceSheet } from './cost-calculator.js';
import type { UsageSplit } from './usage-split.js';

function prices(p: Partial<Record<UsageType, string>>): PriceSheet {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, parseDecimal(v)])) as PriceSheet;
}

function split(s: Partial<UsageSplit>): UsageSplit {
  return { input: 0n, cache_read: 0n, cache_write: 0n, output: 0n, reasoning: 0n, ...s };
}

function costOf(result: ReturnType<typeof computeCost>): { cost: string; breakdown: Partial<Record<UsageType, string>> } {
  if (!result.ok) throw new Error(`unexpectedly unpriced: missing ${result.missing}`);
  return { cost: formatDecimal(result.cost), breakdown: result.breakdown };
}

describe('computeCost', () => {
  it('prices 1234 input tokens at 0.0000025 and 567 output tokens at 0.00001 at exactly 0.008755', () => {
    const result = costOf(computeCost(split({ input: 1234n, output: 567n }), prices({ input: '0.0000025', output: '0.00001' })));
    // 1234 x 0.0000025 = 0.003085; 567 x 0.00001 = 0.00567; sum 0.008755
    expect(result).toEqual({ cost: '0.008755', breakdown: { input: '0.003085', output: '0.00567' } });
  });

  it('prices each cached and reasoning part at its own price', () => {
    const result = costOf(
      computeCost(
        split({ input: 3000n, cache_read: 6000n, cache_write: 1000n, output: 500n, reasoning: 1500n }),
        prices({ input: '0.0000025', cache_read: '0.00000125', cache_write: '0.000003125', output: '0.00001', reasoning: '0.000012' }),
      ),
    );
    // 3000 x 0.0000025 = 0.0075; 6000 x 0.00000125 = 0.0075; 1000 x 0.000003125 = 0.003125;
    // 500 x 0.00001 = 0.005; 1500 x 0.000012 = 0.018; sum 0.041125
    expect(result).toEqual({
      cost: '0.041125',
      breakdown: { input: '0.0075', cache_read: '0.0075', cache_write: '0.003125', output: '0.005', reasoning: '0.018' },
    });
  });

  it('falls back from cache_read and cache_write to input, and from reasoning to output', () => {
    const result = costOf(
      computeCost(split({ input: 3000n, cache_read: 6000n, cache_write: 1000n, output: 500n, reasoning: 1500n }), prices({ input: '0.0000025', output: '0.00001' })),
    );
    // all 10000 input tokens at 0.0000025 = 0.025; all 2000 output tokens at 0.00001 = 0.02; sum 0.045
    expect(result).toEqual({
      cost: '0.045',
      breakdown: { input: '0.0075', cache_read: '0.015', cache_write: '0.0025', output: '0.005', reasoning: '0.015' },
    });
  });

  it('uses a part’s own price, even a zero one, rather than its parent’s', () => {
    const result = costOf(computeCost(split({ input: 100n, cache_read: 900n }), prices({ input: '0.000001', cache_read: '0' })));
    expect(result).toEqual({ cost: '0.0001', breakdown: { input: '0.0001', cache_read: '0' } });
  });

  it('reports the missing price when neither a part nor its parent has one, instead of pricing it at $0', () => {
    expect(computeCost(split({ input: 10n, output: 5n }), prices({ input: '0.000001' }))).toEqual({ ok: false, missing: 'output' });
    expect(computeCost(split({ cache_read: 10n }), prices({ output: '0.000001' }))).toEqual({ ok: false, missing: 'cache_read' });
    expect(computeCost(split({ output: 1n, reasoning: 10n }), prices({ input: '0.000001', output: '0.000002', cache_read: '0.1' }))).toMatchObject({ ok: true });
  });

  it('needs no price for a part with no tokens (an embedding has no output)', () => {
    expect(costOf(computeCost(split({ input: 8n }), prices({ input: '0.00000002' })))).toEqual({ cost: '0.00000016', breakdown: { input: '0.00000016' } });
  });

  it('keeps every digit of a tiny price', () => {
    const result = costOf(computeCost(split({ input: 3n }), prices({ input: '0.000000000000000000000000000001' })));
    expect(result.cost).toBe('0.000000000000000000000000000003');
  });

  it('prices a very large token count exactly', () => {
    const result = costOf(computeCost(split({ input: 9_007_199_254_740_993n }), prices({ input: '0.0000025' })));
    expect(result.cost).toBe('22517998136.8524825');
  });
});
