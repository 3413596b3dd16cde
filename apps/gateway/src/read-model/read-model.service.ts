import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import type { ProviderModelView, ResolvedConnection } from '#libs/contracts';
import { SecretRedactor } from '#libs/secret-redaction';
import type { Principal } from '../auth/principal.js';
import type { ApiKeyEntity } from '../keys/api-key.entity.js';
import { ApiKeysRepository } from '../keys/api-keys.repository.js';
import { hashKey } from '../keys/key-material.js';

/** One place a model is served: a provider model on a connection. */
export interface RouteTarget {
  model: ProviderModelView;
  connection: ResolvedConnection;
  /** Removes the connection's secrets from what its upstream answers, before it is relayed, logged or traced. */
  redactor: SecretRedactor;
}

/**
 * A client model name resolved to where it is served: the targets in the order they are tried.
 * Today a model name has one provider model per scope, so one target; failover and load balancing
 * (issue 15) add targets here and the upstream call walks them.
 */
export interface Route {
  /** The gateway model name the client asked for. */
  name: string;
  targets: readonly [RouteTarget, ...RouteTarget[]];
}

type Part = 'keys' | 'connections' | 'providerModels';

/** Bound of the recent-keys cache (unknown keys are cached too, so a flood of bad keys cannot grow it). */
const RECENT_KEYS_MAX = 10_000;

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
  /**
   * Keys seen recently -> principal, so a busy key is hashed once, not per request. Emptied on
   * every key change (a revoked key must fail at once) and when it grows past its bound.
   */
  private readonly recentKeys = new Map<string, Principal | null>();
  private connections = new Map<string, ResolvedConnection>();
  /** Connection id -> its redactor, built when the connection is loaded or changes, never per request. */
  private redactors = new Map<string, SecretRedactor>();
  /** Routes built on first use and kept until connections or provider models are read again: a call allocates none. */
  private routes = new Map<ProviderModelView, Route>();
  /** organisationId \0 model name -> entries (organisation-wide and per project). */
  private models = new Map<string, ProviderModelView[]>();
  private loaded = false;
  private readonly inFlight = new Map<Part, Promise<void>>();
  private readonly dirty = new Set<Part>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly listeners: Array<(part: Part) => void> = [];

  constructor(
    private readonly bus: BusClient,
    private readonly keys: ApiKeysRepository,
  ) {}

  get isLoaded(): boolean {
    return this.loaded;
  }

  /** Loads everything, retrying until the owning services answer, then refreshes periodically. */
  async start(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await Promise.all([this.refresh('keys'), this.refresh('connections'), this.refresh('providerModels')]);
        this.loaded = true;
        this.logger.log(`read model loaded: ${this.keysByHash.size} keys, ${this.connections.size} connections, ${this.models.size} model names`);
        break;
      } catch (err) {
        const delay = Math.min(200 * attempt, 2000);
        this.logger.warn(`read model not loaded yet (${String((err as Error).message ?? err)}); retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    this.timer = setInterval(() => {
      for (const part of ['keys', 'connections', 'providerModels'] as const) this.refresh(part).catch((e: unknown) => this.logger.warn(`safety refresh of ${part} failed: ${String(e)}`));
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

  /** The redactor of a loaded connection, built when it was loaded. */
  redactorOf(connection: ResolvedConnection): SecretRedactor {
    return this.redactors.get(connection.id) ?? SecretRedactor.forSecrets(connectionSecrets(connection));
  }

  allConnections(): IterableIterator<ResolvedConnection> {
    return this.connections.values();
  }

  /** The provider model a principal reaches under `name`: its project's entry first, else the organisation-wide one. */
  route(principal: Principal, name: string): Route | undefined {
    const entries = this.models.get(`${principal.organisationId}\u0000${name}`);
    if (!entries) return undefined;
    const model =
      (principal.projectId !== null ? entries.find((m) => m.projectId === principal.projectId) : undefined) ?? entries.find((m) => m.projectId === null);
    if (!model) return undefined;
    const known = this.routes.get(model);
    if (known) return known;
    const connection = this.connections.get(model.connectionId);
    // An admin set the connection inactive: its models are not routed (404, or later the next target).
    if (!connection || connection.status === 'inactive') return undefined;
    // Both maps are replaced together, so the redactor is there; should it not be, build one rather than relay secrets.
    const redactor = this.redactorOf(connection);
    const built: Route = { name: model.name, targets: [{ model, connection, redactor }] };
    this.routes.set(model, built);
    return built;
  }

  /** Models a principal may call (GET /v1/models). */
  modelsFor(principal: Principal): ProviderModelView[] {
    const out: ProviderModelView[] = [];
    for (const entries of this.models.values()) {
      for (const m of entries) {
        if (m.organisationId !== principal.organisationId) continue;
        if (m.projectId !== null && m.projectId !== principal.projectId) continue;
        if (this.connections.get(m.connectionId)?.status === 'inactive') continue;
        out.push(m);
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

  /** A single key changed (created or revoked here or on another replica). */
  async refreshKey(id: string): Promise<void> {
    const key = await this.keys.findById(id);
    for (const [hash, p] of this.keysByHash) if (p.keyId === id) this.keysByHash.delete(hash);
    if (key && !key.revokedAt) this.keysByHash.set(key.keyHash, toPrincipal(key));
    this.recentKeys.clear();
  }

  private async read(part: Part): Promise<void> {
    switch (part) {
      case 'keys': {
        const rows = await this.keys.allActive();
        this.keysByHash = new Map(rows.map((k) => [k.keyHash, toPrincipal(k)]));
        this.recentKeys.clear();
        break;
      }
      case 'connections': {
        const rows = await this.bus.request('vault.v1.connections.resolve-all', {});
        const redactors = new Map<string, SecretRedactor>();
        for (const c of rows) {
          const secrets = connectionSecrets(c);
          const known = this.redactors.get(c.id);
          redactors.set(c.id, known?.hasSecrets(secrets) ? known : SecretRedactor.forSecrets(secrets));
        }
        this.connections = new Map(rows.map((c) => [c.id, c]));
        this.redactors = redactors;
        this.routes = new Map();
        break;
      }
      case 'providerModels': {
        const rows = await this.bus.request('registry.v1.provider-models.all', {});
        const next = new Map<string, ProviderModelView[]>();
        for (const m of rows) {
          const k = `${m.organisationId}\u0000${m.name}`;
          const list = next.get(k) ?? [];
          list.push(m);
          next.set(k, list);
        }
        this.models = next;
        this.routes = new Map();
        break;
      }
    }
    for (const l of this.listeners) l(part);
  }
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
  return { keyId: k.id, name: k.name, role: k.role, organisationId: k.organisationId, projectId: k.projectId };
}
