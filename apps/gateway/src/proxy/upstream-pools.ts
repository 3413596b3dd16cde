import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { UpstreamFetch } from '#libs/adapter-sdk';
import { guardedConnector, guardedFetch, type GuardedFetch, HostResolver, UpstreamAddressPolicy } from '#libs/upstream-guard';
import { buildConnector, Pool } from 'undici';

/** How long opening a socket (TCP, and TLS) may take when the connection does not say; DNS comes before it. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * One undici Pool per upstream origin (DESIGN.md hot-path rule 2): keep-alive, one request at a
 * time per connection (no HTTP/1.1 pipelining), created on first use and kept. Every new socket
 * goes through the upstream guard (resolve, check each address against UPSTREAM_ALLOWLIST, connect
 * to the checked address); reused keep-alive sockets cost nothing more.
 */
@Injectable()
export class UpstreamPools implements OnApplicationShutdown {
  /** `origin connectTimeout` -> pool: a connect timeout is the connector's, so connections with another one get their own pool. */
  private readonly pools = new Map<string, { origin: string; pool: Pool }>();
  /** Parsed upstream URLs: a request URL is parsed once, not on every call. */
  private readonly targets = new Map<string, { pool: Pool; path: string }>();
  private sideRequests: GuardedFetch | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
    private readonly addressPolicy: UpstreamAddressPolicy,
    private readonly resolver: HostResolver,
  ) {}

  private get(origin: string, connectTimeoutMs: number): Pool {
    const key = `${origin} ${connectTimeoutMs}`;
    let entry = this.pools.get(key);
    if (!entry) {
      const pool = new Pool(origin, {
        connections: 1024,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        headersTimeout: this.config.upstreamTimeoutMs,
        bodyTimeout: this.config.upstreamTimeoutMs,
        // A connect function replaces undici's own connector, so its timeout is given here.
        connect: guardedConnector({ policy: this.addressPolicy, resolver: this.resolver, connect: buildConnector({ timeout: connectTimeoutMs }) }),
      });
      entry = { origin, pool };
      this.pools.set(key, entry);
    }
    return entry.pool;
  }

  /** The pool and request path for an absolute upstream URL (sockets opened within `connectTimeoutMs`). */
  forUrl(url: string, connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): { pool: Pool; path: string } {
    const key = connectTimeoutMs === DEFAULT_CONNECT_TIMEOUT_MS ? url : `${url} ${connectTimeoutMs}`;
    let target = this.targets.get(key);
    if (!target) {
      const parsed = new URL(url);
      target = { pool: this.get(parsed.origin, connectTimeoutMs), path: parsed.pathname + parsed.search };
      if (this.targets.size > 10_000) this.targets.clear();
      this.targets.set(key, target);
    }
    return target;
  }

  /**
   * The fetch adapters get as CallTarget.fetch for requests of their own (OAuth token endpoints):
   * the same guard, connect timeout and upstream timeout as upstream calls, no redirect followed.
   * One function (and one keep-alive agent) for every call.
   */
  readonly fetch: UpstreamFetch = (url, init) => {
    this.sideRequests ??= guardedFetch({
      policy: this.addressPolicy,
      resolver: this.resolver,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      timeoutMs: this.config.upstreamTimeoutMs,
    });
    return this.sideRequests.fetch(url, init);
  };

  /** Closes pools whose origin no connection uses any more. */
  retainOnly(origins: Set<string>): void {
    this.targets.clear();
    for (const [key, { origin, pool }] of this.pools) {
      if (!origins.has(origin)) {
        this.pools.delete(key);
        void pool.close().catch(() => undefined);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.pool.close().catch(() => undefined)));
    this.pools.clear();
    await this.sideRequests?.close().catch(() => undefined);
    this.sideRequests = undefined;
  }
}
