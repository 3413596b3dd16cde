import { Injectable, Logger } from '@nestjs/common';
import type { ProviderModelView } from '#libs/contracts';
import type { Principal } from '../auth/principal.js';
import type { Route } from '../read-model/route.js';
import { RateLimitLeasesRepository } from './rate-limit-leases.repository.js';
import { SlicedBudgets } from './sliced-budgets.js';

/** One per-minute limit a call is checked against. */
interface LimitSpec {
  /** The budget's key in the shared store. */
  key: string;
  /** The limit's public name (x-gateway-rate-limit and the error's details). */
  name: string;
  unit: 'requests' | 'tokens';
  value: number;
  /** Who the limit belongs to, for the message. */
  owner: string;
}

/** What an admitted call took, to settle its token estimate after the call. */
export interface Admission {
  window: number;
  /** Token budgets taken, with the estimate each took. */
  tokenKeys: readonly string[];
  estimate: number;
}

export type RateLimitDecision = { ok: true; admission: Admission | undefined } | { ok: false; limit: string; message: string; retryAfterMs: number; value: number };

const NOTHING_TAKEN: RateLimitDecision = Object.freeze({ ok: true, admission: undefined });

/** The limits one call is checked against (the key's, then the model's), and the token budgets among them: made once per key and model. */
interface LimitSet {
  specs: readonly LimitSpec[];
  tokenKeys: readonly string[];
}

const NO_LIMITS: LimitSet = Object.freeze({ specs: Object.freeze([]), tokenKeys: Object.freeze([]) });

/**
 * Requests and tokens per minute per provider model (its requestsPerMinute / tokensPerMinute) and
 * per gateway key (the key's own), held across replicas by SlicedBudgets (README: Rate limits). A
 * call without limits costs a few null checks; a limited one map look-ups and some arithmetic,
 * never a network round trip, and allocates only its admission when it has a token budget to settle.
 */
@Injectable()
export class RateLimitsService {
  private readonly logger = new Logger('RateLimits');
  private readonly budgets: SlicedBudgets;
  /** Keyed by the read model's objects: a changed key or model is a new object, so its limits are read afresh. */
  private readonly modelSets = new WeakMap<ProviderModelView, LimitSet>();
  private readonly keySets = new WeakMap<Principal, LimitSet>();
  private readonly keyAndModelSets = new WeakMap<Principal, WeakMap<ProviderModelView, LimitSet>>();

  constructor(leases: RateLimitLeasesRepository) {
    this.budgets = new SlicedBudgets(leases, Date.now, (key, err) => this.logger.warn(`lease of ${key} failed: ${String((err as Error)?.message ?? err)}`));
  }

  /** Whether the call has any per-minute limit, the model's or the key's (the caller then estimates tokens only if `needsTokens`). */
  limited(route: Route, principal: Principal): boolean {
    return route.limits.requestsPerMinute !== null || route.limits.tokensPerMinute !== null || principal.requestsPerMinute != null || principal.tokensPerMinute != null;
  }

  needsTokens(route: Route, principal: Principal): boolean {
    return route.limits.tokensPerMinute !== null || principal.tokensPerMinute != null;
  }

  /**
   * Takes one request and `estimatedTokens` from the model's budgets, or refuses naming the limit
   * that is spent (nothing is taken then).
   */
  admit(route: Route, principal: Principal, estimatedTokens: number): RateLimitDecision {
    if (!this.limited(route, principal)) return NOTHING_TAKEN;
    const window = this.budgets.window();
    const { specs, tokenKeys } = this.limitSetFor(route, principal);
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]!;
      if (this.budgets.take(spec.key, spec.value, spec.unit === 'requests' ? 1 : estimatedTokens, window)) continue;
      for (let j = 0; j < i; j++) this.budgets.settle(specs[j]!.key, window, specs[j]!.unit === 'requests' ? -1 : -estimatedTokens);
      const retryAfterMs = this.budgets.retryAfterMs(spec.key);
      return {
        ok: false,
        limit: spec.name,
        value: spec.value,
        retryAfterMs,
        message: `Rate limit reached: ${spec.owner} allows ${spec.value} ${spec.unit} per minute (${spec.name}); try again in ${Math.ceil(retryAfterMs / 1000)} s.`,
      };
    }
    return tokenKeys.length === 0 ? NOTHING_TAKEN : { ok: true, admission: { window, tokenKeys, estimate: estimatedTokens } };
  }

  /** After the call: the token budgets take the real usage instead of the estimate. */
  settle(admission: Admission | undefined, actualTokens: number): void {
    if (!admission) return;
    for (const key of admission.tokenKeys) this.budgets.settle(key, admission.window, actualTokens - admission.estimate);
  }

  /** The key's limits first (its own budget), then the model's. */
  private limitSetFor(route: Route, principal: Principal): LimitSet {
    const keyed = this.keySetOf(principal);
    const model = route.model ? this.modelSetOf(route.model) : NO_LIMITS;
    if (keyed.specs.length === 0) return model;
    if (model.specs.length === 0) return keyed;
    let byModel = this.keyAndModelSets.get(principal);
    if (!byModel) {
      byModel = new WeakMap();
      this.keyAndModelSets.set(principal, byModel);
    }
    let both = byModel.get(route.model!);
    if (!both) {
      both = limitSet([...keyed.specs, ...model.specs]);
      byModel.set(route.model!, both);
    }
    return both;
  }

  private keySetOf(principal: Principal): LimitSet {
    let set = this.keySets.get(principal);
    if (!set) {
      const list: LimitSpec[] = [];
      const owner = `the gateway key ${principal.name}`;
      if (principal.requestsPerMinute != null) list.push({ key: `key:${principal.keyId}:rpm`, name: 'key.requestsPerMinute', unit: 'requests', value: principal.requestsPerMinute, owner });
      if (principal.tokensPerMinute != null) list.push({ key: `key:${principal.keyId}:tpm`, name: 'key.tokensPerMinute', unit: 'tokens', value: principal.tokensPerMinute, owner });
      set = limitSet(list);
      this.keySets.set(principal, set);
    }
    return set;
  }

  private modelSetOf(model: ProviderModelView): LimitSet {
    let set = this.modelSets.get(model);
    if (!set) {
      const list: LimitSpec[] = [];
      const owner = `the model ${model.name}`;
      if (model.requestsPerMinute !== null) list.push({ key: `model:${model.id}:rpm`, name: 'model.requestsPerMinute', unit: 'requests', value: model.requestsPerMinute, owner });
      if (model.tokensPerMinute !== null) list.push({ key: `model:${model.id}:tpm`, name: 'model.tokensPerMinute', unit: 'tokens', value: model.tokensPerMinute, owner });
      set = limitSet(list);
      this.modelSets.set(model, set);
    }
    return set;
  }
}

function limitSet(specs: LimitSpec[]): LimitSet {
  if (specs.length === 0) return NO_LIMITS;
  return Object.freeze({ specs: Object.freeze(specs), tokenKeys: Object.freeze(specs.filter((s) => s.unit === 'tokens').map((s) => s.key)) });
}
