import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { guardedConnector, HostResolver, UpstreamAddressPolicy } from '#libs/upstream-guard';
import { buildConnector, Pool } from 'undici';

/** How long opening a socket (TCP, and TLS) may take; DNS comes before it. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One undici Pool per upstream origin (DESIGN.md hot-path rule 2): keep-alive, one request at a
 * time per connection (no HTTP/1.1 pipelining), created on first use and kept. Every new socket
 * goes through the upstream guard (resolve, check each address against UPSTREAM_ALLOWLIST, connect
 * to the checked address); reused keep-alive sockets cost nothing more.
 */
@Injectable()
export class UpstreamPools implements OnApplicationShutdown {
  private readonly pools = new Map<string, Pool>();
  /** Parsed upstream URLs: a request URL is parsed once, not on every call. */
  private readonly targets = new Map<string, { pool: Pool; path: string }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
    private readonly addressPolicy: UpstreamAddressPolicy,
    private readonly resolver: HostResolver,
  ) {}

  private get(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: 1024,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        headersTimeout: this.config.upstreamTimeoutMs,
        bodyTimeout: this.config.upstreamTimeoutMs,
        // A connect function replaces undici's own connector, so its timeout is given here.
        connect: guardedConnector({ policy: this.addressPolicy, resolver: this.resolver, connect: buildConnector({ timeout: CONNECT_TIMEOUT_MS }) }),
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** The pool and request path for an absolute upstream URL. */
  forUrl(url: string): { pool: Pool; path: string } {
    let target = this.targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { pool: this.get(parsed.origin), path: parsed.pathname + parsed.search };
      if (this.targets.size > 10_000) this.targets.clear();
      this.targets.set(url, target);
    }
    return target;
  }

  /** Closes pools whose origin no connection uses any more. */
  retainOnly(origins: Set<string>): void {
    this.targets.clear();
    for (const [origin, pool] of this.pools) {
      if (!origins.has(origin)) {
        this.pools.delete(origin);
        void pool.close().catch(() => undefined);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => undefined)));
    this.pools.clear();
  }
}
