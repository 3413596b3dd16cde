import { ExponentialBackoff, halfJitterGenerator, type IBackoff, type IBackoffFactory, type IRetryBackoffContext } from 'cockatiel';

/** The longest delay between two retries (a provider's retry-after above it is not waited for: see MAX_RETRY_AFTER_MS). */
export const MAX_RETRY_DELAY_MS = 30_000;

/** A retry-after longer than this is not waited for on the request path: the call moves on (failover) or answers. */
export const MAX_RETRY_AFTER_MS = 30_000;

/** What a retried attempt answered: the retry-after the provider asked for, if any. */
export type RetryAfterOf = (result: unknown) => number | undefined;

/**
 * cockatiel's exponential backoff with half jitter (retry n waits a random time in
 * [d/2, d) with d = retryDelayMs * 2^(n-1), capped at MAX_RETRY_DELAY_MS: replicas that failed
 * together do not retry together, and a retry never comes much sooner than configured), stretched to
 * the provider's retry-after when that is longer: never retry sooner than the provider asked.
 */
export class RetryAfterBackoff implements IBackoff<IRetryBackoffContext<unknown>> {
  private constructor(
    private readonly retryAfterOf: RetryAfterOf,
    private readonly exponential: IBackoffFactory<unknown>,
    readonly duration: number,
  ) {}

  static first(initialDelayMs: number, retryAfterOf: RetryAfterOf): IBackoffFactory<IRetryBackoffContext<unknown>> {
    return new RetryAfterBackoff(retryAfterOf, new ExponentialBackoff({ generator: halfJitterGenerator, initialDelay: initialDelayMs, maxDelay: MAX_RETRY_DELAY_MS }), 0);
  }

  next(context: IRetryBackoffContext<unknown>): RetryAfterBackoff {
    const exponential = this.exponential.next(context) as IBackoff<unknown>;
    const result = context.result;
    const asked = 'value' in result ? this.retryAfterOf(result.value) : undefined;
    return new RetryAfterBackoff(this.retryAfterOf, exponential, Math.max(exponential.duration, asked ?? 0));
  }
}
