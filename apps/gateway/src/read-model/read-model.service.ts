import { Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import { ProcessEnvironment } from '#libs/config';
import { parseModelParameters, RESOLVE_PAGE_SIZE, type DefinitionTokenizerView, type ModelRewriteRuleView, type ProviderModelView, type ResolvedConnection, type TokenizerId } from '#libs/contracts';
import { DefinitionMatcher, matchableDefinition, MatchPatternCache, NameRewrite, type MatchableDefinition } from '#libs/match-pattern';
import { SecretRedactor } from '#libs/secret-redaction';
import type { Principal } from '../auth/principal.js';
import { DELEGATED_TOKEN_PREFIX, DelegatedTokens } from '../delegation/delegated-tokens.js';
import { parseDecimal } from '#libs/money';
import type { ApiKeyEntity } from '../keys/api-key.entity.js';
import { ApiKeysRepository } from '../keys/api-keys.repository.js';
import { hashKey } from '../keys/key-material.js';
import { ConnectionCallCredentials } from '../proxy/connection-call-credentials.js';
import { connectionSlug, modelNotFound, NO_LIMITS, type ModelResolution, type Route, type RouteTarget } from './route.js';

export type { ModelResolution, Route, RouteTarget } from './route.js';

type Part = 'keys' | 'connections' | 'providerModels' | 'rewriteRules' | 'tokenizers';
const PARTS: readonly Part[] = ['keys', 'connections', 'providerModels', 'rewriteRules', 'tokenizers'];

/** Bound of the recent-keys cache (unknown keys are cached too, so a flood of bad keys cannot grow it). */
const RECENT_KEYS_MAX = 10_000;

/** Bound of the cache of names resolved by slug, rewrite or parameters (unknown names too). */
const RESOLVED_NAMES_MAX = 10_000;

/** A rewrite rule compiled once when the rules are read. */
interface CompiledRewrite {
  projectId: string | null;
  rewrite: NameRewrite;
}

/** Re-read everything this often even without events, in case a pub/sub event was missed. */
const SAFETY_REFRESH_MS = 30_000;

/**
 * The gateway's in-memory view of keys, connections (with credentials) and provider models.
 * Loaded at start, kept current by change events; the request path reads only from here
 * (DESIGN.md hot-path rule 1: no bus or database round trip per request).
 */
@Injectable()
export class ReadModelService implements OnApplicationShutdown {
  private readonly logger = new Logger(ReadModelService.name);
  private keysByHash = new Map<string, Principal>();
  /** Active keys by id: a delegated token is honoured only while the key it acts for is here. */
  private keysById = new Map<string, Principal>();
  /**
   * Keys seen recently -> principal, so a busy key is hashed once, not per request. Emptied on
   * every key change (a revoked key must fail at once) and when it grows past its bound.
   */
  private readonly recentKeys = new Map<string, Principal | null>();
  private connections = new Map<string, ResolvedConnection>();
  /** Connection id -> its redactor, built when the connection is loaded or changes, never per request. */
  private redactors = new Map<string, SecretRedactor>();
  /** Routes built on first use and kept until connections or provider models are read again: a call allocates none. */
  private routes = new Map<ProviderModelView, { ok: true; route: Route }>();
  /** organisationId \0 model name -> entries (organisation-wide and per project). */
  /** organisation id -> model name -> its entries (organisation-wide and per project): two lookups, no key built per call. */
  private models = new Map<string, Map<string, ProviderModelView[]>>();
  /** organisationId \0 slug -> the connections with that slug (`slug/model` addressing). */
  private connectionsBySlug = new Map<string, ResolvedConnection[]>();
  /** organisationId -> rewrite rules in the order they apply. */
  private rewriteRules = new Map<string, CompiledRewrite[]>();
  /** organisationId \0 projectId \0 name -> how a name that is not a provider model's resolved (bounded, emptied on every change). */
  private resolvedNames = new Map<string, ModelResolution>();
  /** The model definitions' tokenizers, by the winner rule pricing uses: which tokenizer counts a model's input. */
  private tokenizers = DefinitionMatcher.build<TokenizerId>([]);
  private readonly tokenizerPatterns = new MatchPatternCache();
  private loaded = false;
  private readonly inFlight = new Map<Part, Promise<void>>();
  private readonly dirty = new Set<Part>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly listeners: Array<(part: Part) => void> = [];

  constructor(
    private readonly bus: BusClient,
    private readonly keys: ApiKeysRepository,
    private readonly environment: ProcessEnvironment = new ProcessEnvironment(),
    @Optional() private readonly delegated?: DelegatedTokens,
  ) {}

  get isLoaded(): boolean {
    return this.loaded;
  }

  /** Loads everything, retrying until the owning services answer, then refreshes periodically. */
  async start(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await Promise.all(PARTS.map((part) => this.refresh(part)));
        this.loaded = true;
        this.logger.log(`read model loaded: ${this.keysByHash.size} keys, ${this.connections.size} connections, ${[...this.models.values()].reduce((n, names) => n + names.size, 0)} model names`);
        break;
      } catch (err) {
        const delay = Math.min(200 * attempt, 2000);
        this.logger.warn(`read model not loaded yet (${String((err as Error).message ?? err)}); retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    this.timer = setInterval(() => {
      for (const part of PARTS) this.refresh(part).catch((e: unknown) => this.logger.warn(`safety refresh of ${part} failed: ${String(e)}`));
    }, SAFETY_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** Called on every change; used to drop upstream pools of removed connections. */
  onChange(listener: (part: Part) => void): void {
    this.listeners.push(listener);
  }

  principalForKey(key: string): Principal | undefined {
    if (key.startsWith(DELEGATED_TOKEN_PREFIX)) return this.delegatedPrincipal(key);
    const cached = this.recentKeys.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const principal = this.keysByHash.get(hashKey(key));
    if (this.recentKeys.size >= RECENT_KEYS_MAX) this.recentKeys.clear();
    this.recentKeys.set(key, principal ?? null);
    return principal;
  }

  /** Any loaded connection, inactive ones included (an admin may test one before routing it again). */
  connection(id: string): ResolvedConnection | undefined {
    return this.connections.get(id);
  }

  /** The redactor of a loaded connection, built when it was loaded; should it be missing, one is built rather than relay secrets. */
  redactorOf(connection: ResolvedConnection): SecretRedactor {
    return this.redactors.get(connection.id) ?? SecretRedactor.forSecrets(connectionSecrets(connection));
  }

  allConnections(): IterableIterator<ResolvedConnection> {
    return this.connections.values();
  }

  /** The route of a name clients call, however it addresses the model (`resolve`), or undefined. */
  route(principal: Principal, name: string): Route | undefined {
    const resolution = this.resolve(principal, name);
    return resolution.ok ? resolution.route : undefined;
  }

  /**
   * What a model name addresses, tried in this order (README "Addressing models"):
   * 1. an active provider model of that exact name (the project's own, else the organisation's);
   * 2. `slug/model`: any model id of the connection with that slug, passed on unvalidated;
   * 3. the first rewrite rule whose pattern matches the whole name: its target, by 1 or 2;
   * 4. `name:temperature=0.2,top_p=0.9` (a last `:` followed by `=`): the name before it by 1-3,
   *    with those parameters, each checked against the known parameters (a bad one is 400 naming it);
   * otherwise 404 model_not_found pointing at GET /v1/models.
   * An exact provider-model name costs one map look-up; the other forms are cached per name.
   */
  resolve(principal: Principal, name: string): ModelResolution {
    const exact = this.exactModel(principal, name);
    if (exact) return exact;
    const key = `${principal.organisationId}\u0000${principal.projectId ?? ''}\u0000${name}`;
    const known = this.resolvedNames.get(key);
    if (known) return known;
    const resolved = this.resolveIndirect(principal, name);
    if (this.resolvedNames.size >= RESOLVED_NAMES_MAX) this.resolvedNames.clear();
    this.resolvedNames.set(key, resolved);
    return resolved;
  }

  private resolveIndirect(principal: Principal, name: string): ModelResolution {
    // A `:name=value` suffix is parameters whatever the base is: a slug's model id may hold a colon (llama3:8b), never `=` after it.
    const colon = name.lastIndexOf(':');
    if (colon > 0 && name.indexOf('=', colon) !== -1) {
      const base = name.slice(0, colon);
      const baseResolution = this.resolveDirect(principal, base) ?? this.rewritten(principal, base);
      if (!baseResolution?.ok) return baseResolution ?? { ok: false, error: modelNotFound(name) };
      const parsed = parseModelParameters(name.slice(colon + 1));
      if (!parsed.ok) return { ok: false, error: { status: 400, code: 'invalid_model_parameter', message: `Invalid model name \`${name}\`: ${parsed.message}.`, param: 'model' } };
      return { ok: true, route: { ...baseResolution.route, uriParameters: parsed.parameters } };
    }
    return this.slugRoute(principal, name) ?? this.rewritten(principal, name) ?? { ok: false, error: modelNotFound(name) };
  }

  /** Steps 1 and 2: a provider model's name or `slug/model`; undefined when neither names anything. */
  private resolveDirect(principal: Principal, name: string): ModelResolution | undefined {
    return this.exactModel(principal, name) ?? this.slugRoute(principal, name);
  }

  /** Step 1: the provider model of that name the caller reaches; an inactive one (or one whose connections are gone) is not routable. */
  private exactModel(principal: Principal, name: string): ModelResolution | undefined {
    const model = this.modelNamed(principal, name);
    if (!model) return undefined;
    return (model.status === 'active' ? this.modelRoute(model) : undefined) ?? { ok: false, error: modelNotFound(name, model.status === 'active' ? '' : ' (it is inactive)') };
  }

  /** Step 3: the first rule of the caller's reach that matches; its target must then resolve by steps 1-2. */
  private rewritten(principal: Principal, name: string): ModelResolution | undefined {
    for (const rule of this.rewriteRules.get(principal.organisationId) ?? []) {
      if (rule.projectId !== null && rule.projectId !== principal.projectId) continue;
      const target = rule.rewrite.apply(name);
      if (target === undefined) continue;
      return this.resolveDirect(principal, target) ?? { ok: false, error: modelNotFound(name, ` (rewritten to \`${target}\`, which is not a model)`) };
    }
    return undefined;
  }

  /** The provider model a principal reaches under `name`: its project's entry first, else the organisation-wide one. */
  private modelNamed(principal: Principal, name: string): ProviderModelView | undefined {
    const entries = this.models.get(principal.organisationId)?.get(name);
    if (!entries) return undefined;
    // Loops rather than find(): no closure per call on the hot path.
    let organisationWide: ProviderModelView | undefined;
    for (const m of entries) {
      if (m.projectId === null) organisationWide ??= m;
      else if (m.projectId === principal.projectId) return m;
    }
    return organisationWide;
  }

  /** The model's route, built on first use and kept (with its resolution) until the read model changes: an exact-name call allocates nothing. */
  private modelRoute(model: ProviderModelView): { ok: true; route: Route } | undefined {
    const known = this.routes.get(model);
    if (known) return known;
    const targets: RouteTarget[] = [];
    for (const t of model.targets) {
      const connection = this.connections.get(t.connectionId);
      if (this.routable(connection)) targets.push({ upstreamModel: t.upstreamModel, weight: t.weight, connection, redactor: this.redactorOf(connection) });
    }
    if (targets.length === 0) return undefined;
    const built: Route = {
      name: model.name,
      model,
      kind: model.kind,
      targets: targets as [RouteTarget, ...RouteTarget[]],
      fallbacks: model.fallbacks,
      failoverByDefault: model.failoverByDefault,
      upstreamStreams: model.upstreamStreams,
      multimodal: model.multimodal,
      limits: {
        contextWindow: model.contextWindow,
        maxInputTokens: model.maxInputTokens,
        maxOutputTokens: model.maxOutputTokens,
        requestsPerMinute: model.requestsPerMinute,
        tokensPerMinute: model.tokensPerMinute,
      },
      defaultParameters: model.defaultParameters,
    };
    const resolution = { ok: true as const, route: built };
    this.routes.set(model, resolution);
    return resolution;
  }

  /** Step 2 (003's custom provider form): `slug/model` reaches any model id of that connection, unvalidated, if the caller may use the connection. */
  private slugRoute(principal: Principal, name: string): ModelResolution | undefined {
    const slash = name.indexOf('/');
    if (slash <= 0 || slash === name.length - 1) return undefined;
    const candidates = this.connectionsBySlug.get(`${principal.organisationId}\u0000${name.slice(0, slash)}`);
    if (!candidates) return undefined;
    const connection =
      (principal.projectId !== null ? candidates.find((c) => c.projectId === principal.projectId) : undefined) ?? candidates.find((c) => c.projectId === null);
    if (!this.routable(connection)) return undefined;
    const route: Route = {
      name,
      targets: [{ upstreamModel: name.slice(slash + 1), weight: 1, connection, redactor: this.redactorOf(connection) }],
      fallbacks: [],
      failoverByDefault: false,
      upstreamStreams: true,
      multimodal: true,
      limits: NO_LIMITS,
      defaultParameters: {},
    };
    return { ok: true, route };
  }

  /** An admin set a connection inactive: its targets are not routed (404, or later the next target). */
  private routable(connection: ResolvedConnection | undefined): connection is ResolvedConnection {
    return connection !== undefined && connection.status !== 'inactive';
  }

  /**
   * The tokenizer of the model definition that prices an upstream model for this caller (the same
   * definition metering picks), or undefined when none matches. Only the slow path asks: an input
   * whose byte length cannot decide the limit, and count_tokens' estimate.
   */
  tokenizerFor(principal: Principal, upstreamModel: string): TokenizerId | undefined {
    return this.tokenizers.match(principal.organisationId, principal.projectId, upstreamModel)?.value;
  }

  /** Active models a principal may call (GET /v1/models). */
  modelsFor(principal: Principal): ProviderModelView[] {
    const out: ProviderModelView[] = [];
    for (const entries of this.models.get(principal.organisationId)?.values() ?? []) {
      for (const m of entries) {
        if (m.status !== 'active') continue;
        if (m.projectId !== null && m.projectId !== principal.projectId) continue;
        // Listed only while a target can serve it: an admin may set every connection of a model inactive.
        if (m.targets.some((t) => this.routable(this.connections.get(t.connectionId)))) out.push(m);
      }
    }
    return out;
  }

  /** Re-reads one part; concurrent calls coalesce into at most one more read. */
  refresh(part: Part): Promise<void> {
    const running = this.inFlight.get(part);
    if (running) {
      this.dirty.add(part);
      return running;
    }
    const run = (async () => {
      try {
        do {
          this.dirty.delete(part);
          await this.read(part);
        } while (this.dirty.has(part));
      } finally {
        this.inFlight.delete(part);
      }
    })();
    this.inFlight.set(part, run);
    return run;
  }

  /** An active key by id (the gateway mints delegated tokens only for active admin keys). */
  principalForKeyId(id: string): Principal | undefined {
    return this.keysById.get(id);
  }

  /**
   * A delegated token (the evaluator acting for an admin): valid signature, not expired, and the
   * admin key it acts for still active in the same scope. Its principal may call /v1 only.
   */
  private delegatedPrincipal(token: string): Principal | undefined {
    const claims = this.delegated?.verify(token, Date.now());
    if (!claims) return undefined;
    const admin = this.keysById.get(claims.keyId);
    if (!admin || admin.role !== 'admin' || admin.organisationId !== claims.organisationId || admin.projectId !== claims.projectId) return undefined;
    // The admin key's own rate limits apply: the evaluator's calls for it count against them.
    return { ...admin, name: `evaluator for ${admin.name}`, role: 'client' };
  }

  /** A single key changed (created or revoked here or on another replica). */
  async refreshKey(id: string): Promise<void> {
    const key = await this.keys.findById(id);
    for (const [hash, p] of this.keysByHash) if (p.keyId === id) this.keysByHash.delete(hash);
    this.keysById.delete(id);
    if (key && !key.revokedAt) {
      const principal = toPrincipal(key);
      this.keysByHash.set(key.keyHash, principal);
      this.keysById.set(key.id, principal);
    }
    this.recentKeys.clear();
  }

  /**
   * Every connection, page by page (issue 16.8): one message per page stays far below NATS's
   * message limit however many connections there are.
   */
  private async loadConnections(): Promise<ResolvedConnection[]> {
    const rows: ResolvedConnection[] = [];
    let after: string | undefined;
    do {
      const page = await this.bus.request('vault.v1.connections.resolve-page', after === undefined ? { limit: RESOLVE_PAGE_SIZE } : { after, limit: RESOLVE_PAGE_SIZE });
      for (const c of page.items) rows.push(c);
      after = page.next ?? undefined;
    } while (after !== undefined);
    return rows;
  }

  private async read(part: Part): Promise<void> {
    switch (part) {
      case 'keys': {
        const rows = await this.keys.allActive();
        const principals = rows.map((k) => [k.keyHash, toPrincipal(k)] as const);
        this.keysByHash = new Map(principals);
        this.keysById = new Map(principals.map(([, p]) => [p.keyId, p]));
        this.recentKeys.clear();
        break;
      }
      case 'connections': {
        const rows = await this.loadConnections();
        const redactors = new Map<string, SecretRedactor>();
        for (const c of rows) {
          const fromEnvironment = ConnectionCallCredentials.of(c);
          // Secrets read from the environment must not leave in an upstream's words either.
          const secrets = [...connectionSecrets(c), ...fromEnvironment.environmentSecrets(this.environment)];
          const known = this.redactors.get(c.id);
          redactors.set(c.id, known?.hasSecrets(secrets) ? known : SecretRedactor.forSecrets(secrets));
        }
        const bySlug = new Map<string, ResolvedConnection[]>();
        for (const c of rows) {
          const k = `${c.organisationId}\u0000${connectionSlug(c)}`;
          bySlug.set(k, [...(bySlug.get(k) ?? []), c]);
        }
        this.connections = new Map(rows.map((c) => [c.id, c]));
        this.connectionsBySlug = bySlug;
        this.redactors = redactors;
        this.routes = new Map();
        this.resolvedNames = new Map();
        break;
      }
      case 'providerModels': {
        const rows = await this.bus.request('registry.v1.provider-models.all', {});
        const next = new Map<string, Map<string, ProviderModelView[]>>();
        for (const m of rows) {
          let names = next.get(m.organisationId);
          if (!names) next.set(m.organisationId, (names = new Map()));
          const list = names.get(m.name) ?? [];
          list.push(m);
          names.set(m.name, list);
        }
        this.models = next;
        this.routes = new Map();
        this.resolvedNames = new Map();
        break;
      }
      case 'tokenizers': {
        const rows = await this.bus.request('registry.v1.model-definitions.tokenizers', {});
        this.tokenizers = DefinitionMatcher.build(compiledTokenizers(rows, this.tokenizerPatterns, (d, err) => this.logger.warn(`model definition ${d.id} skipped for token counts: ${String((err as Error)?.message ?? err)}`)));
        break;
      }
      case 'rewriteRules': {
        const rows = await this.bus.request('registry.v1.model-rewrite-rules.all', {});
        this.rewriteRules = compiledRewrites(rows, (rule, err) => this.logger.warn(`rewrite rule ${rule.id} skipped: ${String((err as Error)?.message ?? err)}`));
        this.resolvedNames = new Map();
        break;
      }
    }
    for (const l of this.listeners) l(part);
  }
}

/** Every definition whose pattern compiles (the registry refuses the others), with its tokenizer. */
function compiledTokenizers(rows: DefinitionTokenizerView[], patterns: MatchPatternCache, skipped: (d: DefinitionTokenizerView, err: unknown) => void): MatchableDefinition<TokenizerId>[] {
  const out: MatchableDefinition<TokenizerId>[] = [];
  for (const d of rows) {
    try {
      out.push(matchableDefinition(d, patterns.get(d.id, d.matchPattern), d.tokenizer));
    } catch (err) {
      skipped(d, err);
    }
  }
  patterns.retainOnly(new Set(rows.map((d) => d.id)));
  return out;
}

/** The rules per organisation, in the order the registry gives (position, then age); one that does not compile is skipped (the registry refuses those). */
function compiledRewrites(rows: ModelRewriteRuleView[], skipped: (rule: ModelRewriteRuleView, err: unknown) => void): Map<string, CompiledRewrite[]> {
  const out = new Map<string, CompiledRewrite[]>();
  for (const rule of rows) {
    try {
      const list = out.get(rule.organisationId) ?? [];
      list.push({ projectId: rule.projectId, rewrite: NameRewrite.compile(rule.pattern, rule.target) });
      out.set(rule.organisationId, list);
    } catch (err) {
      skipped(rule, err);
    }
  }
  return out;
}

/**
 * What must never leave the gateway in an upstream's words: every secret field of the adapter (API
 * key, AWS keys, a service account's JSON...) and every extra header value (the vault stores them
 * all encrypted). `secrets` may be absent from a vault of the previous version: then the API key.
 */
function connectionSecrets(c: ResolvedConnection): string[] {
  return [c.apiKey, ...Object.values(c.secrets ?? {}), ...Object.values(c.headers)];
}

function toPrincipal(k: ApiKeyEntity): Principal {
  return {
    keyId: k.id,
    name: k.name,
    role: k.role,
    organisationId: k.organisationId,
    projectId: k.projectId,
    requestsPerMinute: k.requestsPerMinute,
    tokensPerMinute: k.tokensPerMinute,
    expiresAtMs: k.expiresAt ? k.expiresAt.getTime() : null,
    allowedModels: k.allowedModels ? new Set(k.allowedModels) : null,
    cacheTtlSeconds: k.cacheTtlSeconds ?? null,
    owner: k.owner,
    budget: k.budget ? { amount: parseDecimal(k.budget.amount), period: k.budget.period, mode: k.budget.mode } : null,
  };
}
