import { SlicedBudgets, sliceOf, WINDOW_MS, type LeaseStore } from './sliced-budgets.js';

/** The shared store as the database keeps it: per key and window, never above the limit; answers on a later turn, like a round trip. */
class MemoryLeases implements LeaseStore {
  readonly leased = new Map<string, number>();
  calls = 0;
  failing = false;
  lease(key: string, window: number, want: number, limit: number): Promise<number> {
    this.calls++;
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        if (this.failing) return reject(new Error('database down'));
        const k = `${key}@${window}`;
        const now = this.leased.get(k) ?? 0;
        const got = Math.max(0, Math.min(want, limit - now));
        this.leased.set(k, now + got);
        resolve(got);
      }),
    );
  }
}

const turn = () => new Promise((r) => setImmediate(r));

describe('SlicedBudgets', () => {
  let now: number;
  const clock = () => now;
  beforeEach(() => {
    now = 10 * WINDOW_MS + 1000;
  });

  it('two replicas sharing a limit of 100 per minute admit at most 100 + one slice each, and about 100, under steady traffic', async () => {
    const store = new MemoryLeases();
    const replicas = [new SlicedBudgets(store, clock), new SlicedBudgets(store, clock)];
    let admitted = 0;
    for (let i = 0; i < 1000; i++) {
      if (replicas[i % 2]!.take('model:m1:rpm', 100, 1)) admitted++;
      await turn();
    }
    expect(admitted).toBeLessThanOrEqual(100 + 2 * (1 + sliceOf(100)));
    expect(admitted).toBeGreaterThanOrEqual(100);
    expect(store.leased.get('model:m1:rpm@10')).toBe(100);
    // Leases go a slice at a time, not per request.
    expect(store.calls).toBeLessThan(60);
  });

  it('a burst with no time for a lease to come back is held to what the lease on its way asked for (the first call and a slice)', () => {
    const store = new MemoryLeases();
    const budgets = new SlicedBudgets(store, clock);
    let admitted = 0;
    for (let i = 0; i < 50; i++) if (budgets.take('k', 100, 1)) admitted++;
    expect(admitted).toBe(1 + sliceOf(100));
  });

  it('a new minute starts a fresh budget', async () => {
    const store = new MemoryLeases();
    const budgets = new SlicedBudgets(store, clock);
    let admitted = 0;
    for (let i = 0; i < 30; i++) {
      if (budgets.take('k', 10, 1)) admitted++;
      await turn();
    }
    expect(admitted).toBeLessThanOrEqual(10 + sliceOf(10));
    expect(budgets.take('k', 10, 1)).toBe(false);
    expect(budgets.untilNextWindow()).toBe(WINDOW_MS - 1000);
    now += WINDOW_MS;
    expect(budgets.take('k', 10, 1)).toBe(true);
  });

  it('token budgets settle with the real usage: an over-estimate gives back what was not used', async () => {
    const store = new MemoryLeases();
    const budgets = new SlicedBudgets(store, clock);
    const window = budgets.window();
    // A call larger than a slice may go ahead of the lease (once); the lease then covers it.
    expect(budgets.take('t', 1000, 900)).toBe(true);
    await turn();
    expect(store.leased.get(`t@${window}`)).toBeGreaterThanOrEqual(900);
    expect(budgets.take('t', 1000, 100)).toBe(true);
    await turn();
    await turn();
    expect(store.leased.get(`t@${window}`)).toBe(1000);
    expect(budgets.take('t', 1000, 1)).toBe(false); // spent
    budgets.settle('t', window, 100 - 900); // the first call used 100 of its 900
    expect(budgets.take('t', 1000, 800)).toBe(true);
    expect(budgets.take('t', 1000, 1)).toBe(false);
  });

  it('a refusal asks for a second while a lease is due, and for the rest of the minute once the budget is spent', async () => {
    const store = new MemoryLeases();
    const budgets = new SlicedBudgets(store, clock);
    for (let i = 0; i < 1 + sliceOf(100); i++) expect(budgets.take('k', 100, 1)).toBe(true);
    expect(budgets.take('k', 100, 1)).toBe(false);
    expect(budgets.retryAfterMs('k')).toBe(1000);
    for (let i = 0; i < 300; i++) {
      budgets.take('k', 100, 1);
      await turn();
    }
    expect(budgets.take('k', 100, 1)).toBe(false);
    expect(budgets.retryAfterMs('k')).toBe(WINDOW_MS - 1000);
  });

  it('a store that fails leaves a replica one slice of headroom, no more', async () => {
    const store = new MemoryLeases();
    store.failing = true;
    const errors: string[] = [];
    const budgets = new SlicedBudgets(store, clock, (key) => errors.push(key));
    let admitted = 0;
    for (let i = 0; i < 40; i++) {
      if (budgets.take('k', 100, 1)) admitted++;
      await turn();
    }
    expect(admitted).toBeLessThanOrEqual(1 + sliceOf(100));
    expect(errors.length).toBeGreaterThan(0);
  });
});
