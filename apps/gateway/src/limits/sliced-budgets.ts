/** Where a replica leases slices of a per-minute budget: the store keeps the total leased per window, never above the limit. */
export interface LeaseStore {
  /** Leases up to `want` more of `limit` for this key and window; answers how much it got (0 when spent). */
  lease(key: string, window: number, want: number, limit: number): Promise<number>;
}

export const WINDOW_MS = 60_000;

/** The slice a replica leases at a time: a twentieth of the limit (at least 1). */
export function sliceOf(limit: number): number {
  return Math.max(1, Math.ceil(limit / 20));
}

/** One limit's state on this replica, for the current minute. */
interface Budget {
  window: number;
  /** Leased from the store this window. */
  leased: number;
  /** Admitted (requests, or estimated then settled tokens) this window. */
  used: number;
  /** The store said the window's budget is spent: nothing more to lease. */
  spent: boolean;
  leasing: boolean;
  /** What the lease on its way asked for beyond this replica's own debt (0 when none is): admission may count on it. */
  pending: number;
  /** Calls refused while waiting for a lease (their cost): the next lease asks for them too, so a burst is served after one round trip. */
  demand: number;
  /** Another lease is wanted once the running one answers. */
  again: boolean;
}

/**
 * Per-minute budgets shared by every replica without a network round trip on the request path.
 * Each replica leases slices of a limit's minute (fixed windows on the wall clock) from a shared
 * store in the background and admits calls against what it holds. While a lease is on its way a
 * replica may run ahead by one slice (or one call, when a token estimate is larger, or what the
 * lease on its way asked for), so a burst is not refused for a budget that exists; hence the
 * tolerance: in any minute, at most L + N x (slice + 1) requests are admitted across N replicas
 * (slice = ceil(L/20)); for tokens, L + N x (slice + the largest call's estimate). Token budgets take an estimate at
 * admission and settle with the real usage after the call (the store then covers the difference).
 */
export class SlicedBudgets {
  private readonly budgets = new Map<string, Budget>();

  constructor(
    private readonly store: LeaseStore,
    private readonly now: () => number = Date.now,
    private readonly onLeaseError: (key: string, err: unknown) => void = () => undefined,
  ) {}

  /** The current window's number (minutes since the epoch). */
  window(): number {
    return Math.floor(this.now() / WINDOW_MS);
  }

  /** Milliseconds until the current window ends (the retry-after of a refusal). */
  untilNextWindow(): number {
    return WINDOW_MS - (this.now() % WINDOW_MS);
  }

  /**
   * Whether `cost` more fits the limit now (`window`: the caller's reading of window(), one per
   * call however many limits it takes); admitted cost counts at once. Synchronous: never waits for the store.
   */
  take(key: string, limit: number, cost: number, window: number = this.window()): boolean {
    const budget = this.current(key, window);
    const slice = sliceOf(limit);
    // Ahead of the lease by one slice, or by this one call when it is larger (a big token estimate),
    // or by what the lease on its way asked for.
    const headroom = budget.spent ? 0 : Math.max(slice, cost, budget.pending);
    if (budget.used + cost > budget.leased + headroom) {
      if (!budget.spent) {
        budget.demand += cost;
        this.lease(key, budget, limit);
      }
      return false;
    }
    budget.used += cost;
    if (!budget.spent && budget.leased - budget.used < slice / 2) this.lease(key, budget, limit);
    return true;
  }

  /**
   * How long a refused caller should wait: to the next minute when the minute's budget is spent
   * everywhere; a second when this replica only waits for its next lease.
   */
  retryAfterMs(key: string): number {
    const budget = this.budgets.get(key);
    return !budget || budget.spent ? this.untilNextWindow() : Math.min(1000, this.untilNextWindow());
  }

  /** Corrects an admitted estimate by `delta` (real minus estimated), within the window it was taken in. */
  settle(key: string, window: number, delta: number): void {
    const budget = this.budgets.get(key);
    if (!budget || budget.window !== window || delta === 0) return;
    budget.used = Math.max(0, budget.used + delta);
  }

  private current(key: string, window: number): Budget {
    let budget = this.budgets.get(key);
    if (!budget) {
      budget = { window, leased: 0, used: 0, spent: false, leasing: false, pending: 0, demand: 0, again: false };
      this.budgets.set(key, budget);
    } else if (budget.window !== window) {
      budget.window = window;
      budget.leased = 0;
      budget.used = 0;
      budget.spent = false;
      budget.pending = 0;
      budget.demand = 0;
      budget.again = false;
    }
    return budget;
  }

  private lease(key: string, budget: Budget, limit: number): void {
    if (budget.leasing) {
      budget.again = true;
      return;
    }
    budget.leasing = true;
    budget.again = false;
    const window = budget.window;
    const slice = sliceOf(limit);
    // The debt run up while leasing, plus a slice ahead (what admission may count on meanwhile),
    // plus what was refused for want of a lease (asked for, not counted on).
    const ahead = Math.max(slice, budget.used - budget.leased + slice);
    const want = ahead + budget.demand;
    budget.demand = 0;
    budget.pending = ahead;
    this.store.lease(key, window, want, limit).then(
      (got) => {
        budget.leasing = false;
        budget.pending = 0;
        if (budget.window !== window) return; // a new minute began meanwhile: its budget starts afresh
        budget.leased += got;
        if (got < want) budget.spent = true;
        else if (budget.again || budget.leased - budget.used < slice / 2) this.lease(key, budget, limit);
      },
      (err: unknown) => {
        budget.leasing = false;
        budget.pending = 0;
        this.onLeaseError(key, err);
      },
    );
  }
}
