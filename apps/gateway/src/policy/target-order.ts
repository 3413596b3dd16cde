/** What the balancer needs of a target. */
export interface Weighted {
  weight: number;
}

/**
 * The order a call tries a route's targets in: weighted random among those `available` (a target
 * of weight 2 comes first twice as often as one of weight 1; weight 0 only after every positive
 * one), then the unavailable ones (open circuits), which a caller skips unless their probe is due.
 * Efraimidis–Spirakis sampling without replacement: each target's key is u^(1/weight), highest first.
 * A single target costs nothing.
 */
export function targetOrder<T extends Weighted>(targets: readonly T[], available: (target: T) => boolean, random: () => number = Math.random): readonly T[] {
  if (targets.length === 1) return targets;
  const keyed = targets.map((target) => {
    const up = available(target);
    const key = target.weight > 0 ? Math.pow(random(), 1 / target.weight) : 0;
    return { target, rank: (up ? 2 : 0) + (target.weight > 0 ? 1 : 0), key };
  });
  keyed.sort((a, b) => b.rank - a.rank || b.key - a.key);
  return keyed.map((k) => k.target);
}
