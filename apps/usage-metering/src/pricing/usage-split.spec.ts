import { splitUsage } from './usage-split.js';
import type { TokenUsage } from './token-usage.js';

function usage(u: Partial<TokenUsage>): TokenUsage {
  return { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n, reasoning: 0n, ...u };
}

describe('splitUsage', () => {
  it('keeps plain input and output as they are', () => {
    expect(splitUsage(usage({ input: 1234n, output: 567n }))).toEqual({ input: 1234n, cache_read: 0n, cache_write: 0n, output: 567n, reasoning: 0n });
  });

  it('takes cached tokens out of input and reasoning tokens out of output, so nothing is counted twice', () => {
    const split = splitUsage(usage({ input: 10_000n, cacheRead: 6000n, cacheWrite: 1000n, output: 2000n, reasoning: 1500n }));
    expect(split).toEqual({ input: 3000n, cache_read: 6000n, cache_write: 1000n, output: 500n, reasoning: 1500n });
    const total = Object.values(split!).reduce((a, b) => a + b, 0n);
    expect(total).toBe(10_000n + 2000n);
  });

  it('allows an input made entirely of cached tokens', () => {
    expect(splitUsage(usage({ input: 500n, cacheRead: 500n }))).toMatchObject({ input: 0n, cache_read: 500n });
  });

  it('refuses more cached tokens than input tokens (inconsistent attributes)', () => {
    expect(splitUsage(usage({ input: 100n, cacheRead: 80n, cacheWrite: 21n }))).toBeNull();
  });

  it('refuses more reasoning tokens than output tokens (inconsistent attributes)', () => {
    expect(splitUsage(usage({ output: 10n, reasoning: 11n }))).toBeNull();
  });
});
