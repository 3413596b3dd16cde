import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { connectionPolicy, type ConnectionPolicy, type ResolvedConnection } from '#libs/contracts';
import { handleWhenResult, retry, type RetryPolicy } from 'cockatiel';
import type { CallFailure } from '../v1/call-failure.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../proxy/upstream-pools.js';
import { MAX_RETRY_AFTER_MS, RetryAfterBackoff } from './retry-after-backoff.js';

/** What an attempt answered, as far as the policy cares. */
export type AttemptOutcome = { ok: true } | { ok: false; failure: CallFailure };

/** A connection's policy with its retry policy built once (undefined when it never retries). */
export interface ResolvedConnectionPolicy extends ConnectionPolicy {
  retry: RetryPolicy | undefined;
}

export const DEFAULT_MAX_RETRIES = 0;
export const DEFAULT_RETRY_DELAY_MS = 500;
export const DEFAULT_CIRCUIT_FAILURE_THRESHOLD = 5;
export const DEFAULT_CIRCUIT_HALF_OPEN_AFTER_MS = 30_000;

/**
 * Worth trying again, here or on another target: a retryable failure (connect error, timeout, 408,
 * 429, 5xx, overloaded) whose retry-after, if any, is short enough to wait for on the request path.
 */
export function isRetryableOutcome(outcome: unknown): boolean {
  const o = outcome as AttemptOutcome;
  return !o.ok && o.failure.retryable && (o.failure.retryAfterMs === undefined || o.failure.retryAfterMs <= MAX_RETRY_AFTER_MS);
}

/**
 * Counts against a target's health (its circuit): it failed to answer, or answered 5xx / overloaded.
 * A rate limit is the provider metering us, not an unwell target; a request it refuses is the caller's.
 */
export function isHealthFailure(outcome: unknown): boolean {
  const o = outcome as AttemptOutcome;
  if (o.ok) return false;
  switch (o.failure.kind) {
    case 'upstream_unreachable':
    case 'upstream_timeout':
    case 'overloaded':
    case 'upstream_error':
      return true;
    default:
      return false;
  }
}

function retryAfterOf(outcome: unknown): number | undefined {
  const o = outcome as AttemptOutcome;
  return o.ok ? undefined : o.failure.retryAfterMs;
}

/**
 * Each connection's policy (its settings over the gateway's defaults), resolved once per loaded
 * connection object: the read model replaces the object when the connection changes, so a change
 * is picked up and a call allocates nothing.
 */
@Injectable()
export class ConnectionPolicies {
  private readonly resolved = new WeakMap<ResolvedConnection, ResolvedConnectionPolicy>();
  private readonly defaults: Readonly<ConnectionPolicy>;

  constructor(@Inject(APP_CONFIG) config: Readonly<AppConfig>) {
    this.defaults = Object.freeze({
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      firstByteTimeoutMs: config.upstreamTimeoutMs,
      totalTimeoutMs: config.upstreamTimeoutMs,
      maxRetries: DEFAULT_MAX_RETRIES,
      retryDelayMs: DEFAULT_RETRY_DELAY_MS,
      circuitFailureThreshold: DEFAULT_CIRCUIT_FAILURE_THRESHOLD,
      circuitHalfOpenAfterMs: DEFAULT_CIRCUIT_HALF_OPEN_AFTER_MS,
    });
  }

  of(connection: ResolvedConnection): ResolvedConnectionPolicy {
    let policy = this.resolved.get(connection);
    if (!policy) {
      const p = connectionPolicy(connection.settings, this.defaults);
      policy = {
        ...p,
        retry:
          p.maxRetries > 0
            ? retry(handleWhenResult(isRetryableOutcome), { maxAttempts: p.maxRetries, backoff: RetryAfterBackoff.first(p.retryDelayMs, retryAfterOf) }).dangerouslyUnref()
            : undefined,
      };
      this.resolved.set(connection, policy);
    }
    return policy;
  }
}
