import { targetOrder } from './target-order.js';

/** A seeded generator (mulberry32), so the distribution test is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const t = (name: string, weight: number) => ({ name, weight });

describe('targetOrder', () => {
  it('puts a target first in proportion to its weight (3:1 -> about 75% / 25%)', () => {
    const targets = [t('a', 3), t('b', 1)];
    const random = seeded(42);
    const firsts = { a: 0, b: 0 };
    for (let i = 0; i < 20_000; i++) firsts[targetOrder(targets, () => true, random)[0]!.name as 'a' | 'b']++;
    expect(firsts.a / 20_000).toBeGreaterThan(0.73);
    expect(firsts.a / 20_000).toBeLessThan(0.77);
  });

  it('spreads three targets 1:2:7 as their weights say', () => {
    const targets = [t('a', 1), t('b', 2), t('c', 7)];
    const random = seeded(7);
    const firsts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 30_000; i++) firsts[targetOrder(targets, () => true, random)[0]!.name]!++;
    expect(firsts.a! / 30_000).toBeCloseTo(0.1, 1);
    expect(firsts.b! / 30_000).toBeCloseTo(0.2, 1);
    expect(firsts.c! / 30_000).toBeCloseTo(0.7, 1);
  });

  it('never puts an unavailable target (open circuit) before an available one, whatever its weight', () => {
    const targets = [t('heavy-but-open', 100), t('light', 1)];
    const random = seeded(1);
    for (let i = 0; i < 1000; i++) expect(targetOrder(targets, (x) => x.name !== 'heavy-but-open', random).map((x) => x.name)).toEqual(['light', 'heavy-but-open']);
  });

  it('tries a weight-0 target only after every weighted one (a standby for failover)', () => {
    const targets = [t('standby', 0), t('a', 1), t('b', 1)];
    const random = seeded(3);
    for (let i = 0; i < 1000; i++) expect(targetOrder(targets, () => true, random)[2]!.name).toBe('standby');
  });

  it('orders two targets without allocating: the list itself or one reversal kept for it', () => {
    const targets = [t('a', 1), t('b', 1)];
    const random = seeded(11);
    const orders = new Set<readonly unknown[]>();
    const firsts = { a: 0, b: 0 };
    for (let i = 0; i < 10_000; i++) {
      const order = targetOrder(targets, () => true, random);
      orders.add(order);
      firsts[order[0]!.name as 'a' | 'b']++;
    }
    expect(orders.size).toBe(2);
    expect(orders.has(targets)).toBe(true);
    expect(firsts.a / 10_000).toBeCloseTo(0.5, 1);
  });

  it('puts a weight-0 standby of a pair second, and an open circuit second whatever the weights', () => {
    const random = seeded(5);
    for (let i = 0; i < 1000; i++) {
      expect(targetOrder([t('standby', 0), t('a', 1)], () => true, random).map((x) => x.name)).toEqual(['a', 'standby']);
      expect(targetOrder([t('a', 1), t('open', 5)], (x) => x.name !== 'open', random).map((x) => x.name)).toEqual(['a', 'open']);
    }
    // Both weight 0: the order the model lists them in.
    expect(targetOrder([t('x', 0), t('y', 0)], () => true, random).map((x) => x.name)).toEqual(['x', 'y']);
  });

  it('answers a single target as it is, without allocating', () => {
    const targets = [t('only', 1)];
    expect(targetOrder(targets, () => false)).toBe(targets);
  });
});
