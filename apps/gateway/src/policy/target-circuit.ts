import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhenResult, type CircuitBreakerPolicy } from 'cockatiel';

/**
 * One target's circuit breaker (cockatiel's ConsecutiveBreaker): `threshold` consecutive failures
 * that say the target is unwell open it; after `halfOpenAfterMs` one probe call goes through, which
 * closes it on success or opens it again. While open (and while its probe is out) the balancer
 * skips the target.
 */
export class TargetCircuit {
  private readonly policy: CircuitBreakerPolicy;
  private readonly breaker: ConsecutiveBreaker;
  private openedAt = 0;

  constructor(
    readonly threshold: number,
    readonly halfOpenAfterMs: number,
    /** Whether an attempt's result counts against the target (a failure of its health, not of the request). */
    private readonly isFailure: (result: unknown) => boolean,
    private readonly now: () => number = Date.now,
  ) {
    this.breaker = new ConsecutiveBreaker(threshold);
    this.policy = circuitBreaker(handleWhenResult(isFailure), { halfOpenAfter: halfOpenAfterMs, breaker: this.breaker });
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

  /** Closed: an attempt may run directly and tell `closedAttemptDone` its result (no closure, no extra promise per call). */
  get closed(): boolean {
    return this.policy.state === CircuitState.Closed;
  }

  /**
   * Runs one attempt through the breaker; throws cockatiel's BrokenCircuitError when the circuit is
   * open. A closed circuit runs the attempt directly and tells the breaker what cockatiel's execute
   * would (closedAttemptDone): the same states for a fraction of the cost per call.
   */
  async execute<T>(attempt: () => Promise<T>): Promise<T> {
    if (this.policy.state !== CircuitState.Closed) return this.policy.execute(attempt);
    return this.closedAttemptDone(await attempt());
  }

  /**
   * The result of an attempt started while the circuit was closed: a success resets the count; a
   * failure is replayed through cockatiel's execute, which counts it and opens the circuit at the
   * threshold (and throws BrokenCircuitError if another call opened it meanwhile). Synchronous for a
   * success.
   */
  closedAttemptDone<T>(result: T): T | Promise<T> {
    if (this.isFailure(result)) return this.policy.execute(() => Promise.resolve(result));
    this.breaker.success();
    return result;
  }
}
