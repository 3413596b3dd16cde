import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhenResult, type CircuitBreakerPolicy } from 'cockatiel';

/**
 * One target's circuit breaker (cockatiel's ConsecutiveBreaker): `threshold` consecutive failures
 * that say the target is unwell open it; after `halfOpenAfterMs` one probe call goes through, which
 * closes it on success or opens it again. While open (and while its probe is out) the balancer
 * skips the target.
 */
export class TargetCircuit {
  private readonly policy: CircuitBreakerPolicy;
  private openedAt = 0;

  constructor(
    readonly threshold: number,
    readonly halfOpenAfterMs: number,
    /** Whether an attempt's result counts against the target (a failure of its health, not of the request). */
    isFailure: (result: unknown) => boolean,
    private readonly now: () => number = Date.now,
  ) {
    this.policy = circuitBreaker(handleWhenResult(isFailure), { halfOpenAfter: halfOpenAfterMs, breaker: new ConsecutiveBreaker(threshold) });
    this.policy.onBreak(() => {
      this.openedAt = this.now();
    });
  }

  /** Whether a call may go to the target now: closed, or open for long enough that this call is the probe. */
  get available(): boolean {
    const state = this.policy.state;
    if (state === CircuitState.Closed) return true;
    if (state === CircuitState.Open) return this.now() - this.openedAt >= this.halfOpenAfterMs;
    return false;
  }

  get state(): 'closed' | 'open' | 'half-open' {
    const state = this.policy.state;
    return state === CircuitState.Closed ? 'closed' : state === CircuitState.HalfOpen ? 'half-open' : 'open';
  }

  /** How long until the open circuit lets a probe through (0 when it would now). */
  get retryAfterMs(): number {
    return Math.max(0, this.openedAt + this.halfOpenAfterMs - this.now());
  }

  /** Runs one attempt through the breaker; throws cockatiel's BrokenCircuitError when the circuit is open. */
  execute<T>(attempt: () => Promise<T>): Promise<T> {
    return this.policy.execute(attempt);
  }
}
