/** What the balancer needs of a target. */
export interface Weighted {
  weight: number;
}

/**
 * The order a call tries a route's targets in: weighted random among those `available` (a target
 * of weight 2 comes first twice as often as one of weight 1; weight 0 only after every positive
 * one), then the unavailable ones (open circuits), which a caller skips unless their probe is due.
 * Efraimidis–Spirakis sampling without replacement: each target's key is u^(1/weight), highest first.
 * A single target costs nothing; two (the common failover pair) one random number and no allocation.
 */
export function targetOrder<T extends Weighted>(targets: readonly T[], available: (target: T) => boolean, random: () => number = Math.random): readonly T[] {
  if (targets.length === 1) return targets;
  if (targets.length === 2) return pairOrder(targets, available, random);
  const keyed = targets.map((target) => {
    const up = available(target);
    const key = target.weight > 0 ? Math.pow(random(), 1 / target.weight) : 0;
    return { target, rank: rankOf(target, up), key };
  });
  keyed.sort((a, b) => b.rank - a.rank || b.key - a.key);
  return keyed.map((k) => k.target);
}

function rankOf(target: Weighted, available: boolean): number {
  return (available ? 2 : 0) + (target.weight > 0 ? 1 : 0);
}

/** Each pair of targets in the other order, made once per targets list (a route keeps its list until the read model changes). */
const reversedPairs = new WeakMap<readonly Weighted[], readonly Weighted[]>();

/**
 * Two targets: the same order the sampling gives (for two, u^(1/a) > v^(1/b) has probability
 * a/(a+b)), drawn with one random number; the list itself or its reversal, both kept.
 */
function pairOrder<T extends Weighted>(targets: readonly T[], available: (target: T) => boolean, random: () => number): readonly T[] {
  const a = targets[0]!;
  const b = targets[1]!;
  const rankA = rankOf(a, available(a));
  const rankB = rankOf(b, available(b));
  // Equal ranks of weight 0 keep their order (the sort is stable and both keys are 0).
  const aFirst = rankA !== rankB ? rankA > rankB : a.weight <= 0 || random() * (a.weight + b.weight) < a.weight;
  if (aFirst) return targets;
  let reversed = reversedPairs.get(targets) as readonly T[] | undefined;
  if (!reversed) {
    reversed = Object.freeze([b, a]);
    reversedPairs.set(targets, reversed);
  }
  return reversed;
}
