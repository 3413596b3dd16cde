import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { guardedConnector } from './guarded-connector.js';
import type { HostResolver } from './host-resolver.js';
import type { UpstreamAddressPolicy } from './upstream-address-policy.js';
import { UpstreamAddressRefused } from './upstream-address-refused.js';

export interface GuardedFetchOptions {
  policy: UpstreamAddressPolicy;
  resolver: HostResolver;
  /** Opening a socket (TCP and TLS); DNS comes before it. */
  connectTimeoutMs: number;
  /** The whole exchange, from the first dial to the last body byte. */
  timeoutMs: number;
  /** Opens the socket; undici's `buildConnector` by default (a recording fake in tests). */
  connect?: ReturnType<typeof buildConnector>;
}

/** A 3xx answer to a guarded fetch: never followed, as an upstream call's is not. */
export class UpstreamRedirectRefused extends Error {
  override name = 'UpstreamRedirectRefused';
  readonly code = 'UPSTREAM_REDIRECT_REFUSED';

  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`${url} answered with a redirect (${status}), which the gateway does not follow`);
  }
}

export interface GuardedFetch {
  /** WHATWG fetch's shape (so libraries that take a fetch implementation accept it), over the guard. */
  fetch: (url: string | URL, init?: RequestInit) => Promise<Response>;
  close(): Promise<void>;
}

/**
 * A fetch for the gateway's own side requests (an adapter's OAuth token fetch) under the same rules
 * as upstream calls: every new socket goes through the guarded connector (the name resolved, each
 * answer checked against the policy, the socket opened to the checked address), a redirect is never
 * followed (it rejects, so a token endpoint cannot bounce the gateway to an internal address), and
 * the exchange times out. A refusal rejects with the UpstreamAddressRefused itself, not undici's
 * "fetch failed". Sockets are kept alive in one agent, so a token refresh does not pay a handshake twice.
 */
export function guardedFetch({ policy, resolver, connectTimeoutMs, timeoutMs, connect }: GuardedFetchOptions): GuardedFetch {
  const agent = new Agent({
    connections: 64,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: guardedConnector({ policy, resolver, connect: connect ?? buildConnector({ timeout: connectTimeoutMs }) }),
  });
  const fetch = async (url: string | URL, init: RequestInit = {}): Promise<Response> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let res: Awaited<ReturnType<typeof undiciFetch>>;
    try {
      res = await undiciFetch(url, { ...(init as Parameters<typeof undiciFetch>[1]), redirect: 'manual', signal, dispatcher: agent });
    } catch (err) {
      throw refusalIn(err) ?? err;
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      throw new UpstreamRedirectRefused(String(url), res.status);
    }
    return res as unknown as Response;
  };
  return { fetch, close: () => agent.close() };
}

/** The address refusal somewhere along an error's cause chain, if one is there. */
export function refusalIn(err: unknown): UpstreamAddressRefused | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof UpstreamAddressRefused) return e;
  }
  return undefined;
}
