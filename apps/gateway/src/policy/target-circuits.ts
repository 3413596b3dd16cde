import { Injectable } from '@nestjs/common';
import type { RouteTarget } from '../read-model/route.js';
import type { ConnectionPolicy } from '#libs/contracts';
import { isHealthFailure } from './connection-policies.js';
import { TargetCircuit } from './target-circuit.js';

/** Bound of the circuits kept (targets of deleted connections are not tracked one by one). */
const MAX_CIRCUITS = 10_000;

/**
 * One circuit per target (connection + upstream model) on this replica, kept across read-model
 * refreshes (routes are rebuilt then, the target's health is not forgotten); a connection whose
 * breaker settings changed gets a fresh one. Each replica judges its own circuits: a replica that
 * sees a target fail stops sending to it without asking the others.
 */
@Injectable()
export class TargetCircuits {
  private readonly byTarget = new WeakMap<RouteTarget, TargetCircuit>();
  private readonly byKey = new Map<string, TargetCircuit>();

  /** The target's circuit; undefined when its connection turned the breaker off (threshold 0). */
  of(target: RouteTarget, policy: Pick<ConnectionPolicy, 'circuitFailureThreshold' | 'circuitHalfOpenAfterMs'>): TargetCircuit | undefined {
    if (policy.circuitFailureThreshold === 0) return undefined;
    const known = this.byTarget.get(target);
    if (known && known.threshold === policy.circuitFailureThreshold && known.halfOpenAfterMs === policy.circuitHalfOpenAfterMs) return known;
    const key = `${target.connection.id}\u0000${target.upstreamModel}`;
    let circuit = this.byKey.get(key);
    if (!circuit || circuit.threshold !== policy.circuitFailureThreshold || circuit.halfOpenAfterMs !== policy.circuitHalfOpenAfterMs) {
      circuit = new TargetCircuit(policy.circuitFailureThreshold, policy.circuitHalfOpenAfterMs, isHealthFailure);
      if (this.byKey.size >= MAX_CIRCUITS) this.byKey.clear();
      this.byKey.set(key, circuit);
    }
    this.byTarget.set(target, circuit);
    return circuit;
  }
}
