import type { IRetryBackoffContext } from 'cockatiel';
import { RetryAfterBackoff } from './retry-after-backoff.js';

const failure = (retryAfterMs?: number) => ({ ok: false, failure: { kind: 'rate_limited', message: '', retryable: true, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) } });
const ctx = (attempt: number, value: unknown): IRetryBackoffContext<unknown> => ({ attempt, signal: new AbortController().signal, result: { value } });
const retryAfterOf = (v: unknown) => (v as ReturnType<typeof failure>).failure.retryAfterMs;

describe('RetryAfterBackoff', () => {
  it('retry n waits a random time in [d/2, d) with d = first delay * 2^(n-1)', () => {
    const runs = Array.from({ length: 20 }, () => {
      let b = RetryAfterBackoff.first(100, retryAfterOf).next(ctx(1, failure()));
      const durations = [b.duration];
      for (let i = 2; i <= 4; i++) {
        b = b.next(ctx(i, failure()));
        durations.push(b.duration);
      }
      return durations;
    });
    for (const d of runs) {
      d.forEach((x, i) => {
        expect(x).toBeGreaterThanOrEqual((100 * 2 ** i) / 2);
        expect(x).toBeLessThan(100 * 2 ** i);
      });
    }
    // Jitter: the runs differ.
    expect(new Set(runs.map((d) => d.join(','))).size).toBeGreaterThan(1);
  });

  it("waits the provider's retry-after when it is longer than the backoff", () => {
    const b = RetryAfterBackoff.first(10, retryAfterOf).next(ctx(1, failure(1500)));
    expect(b.duration).toBe(1500);
  });

  it('keeps the backoff when retry-after is shorter', () => {
    const b = RetryAfterBackoff.first(200, retryAfterOf).next(ctx(1, failure(1)));
    expect(b.duration).toBeGreaterThanOrEqual(100);
    expect(b.duration).toBeLessThan(200);
  });

  it('a thrown error has no retry-after: the backoff alone', () => {
    const b = RetryAfterBackoff.first(50, retryAfterOf).next({ attempt: 1, signal: new AbortController().signal, result: { error: new Error('x') } });
    expect(b.duration).toBeGreaterThanOrEqual(25);
  });
});
