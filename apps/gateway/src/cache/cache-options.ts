import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../auth/principal.js';

/** Request header: `on` caches this call (n > 1 included), `off` bypasses the cache; absent = the key's setting. */
export const CACHE_HEADER = 'x-gateway-cache';
/** Request header: how long (seconds) this call's answer is kept; overrides the key's and the gateway's default TTL. */
export const CACHE_TTL_HEADER = 'x-gateway-cache-ttl';
/** The longest TTL a request or key may ask for. */
export const MAX_CACHE_TTL_SECONDS = 30 * 24 * 3600;

export type CacheOptions =
  | { on: false }
  | {
      on: true;
      ttlMs: number;
      /** The request itself asked (x-gateway-cache: on): answers with n > 1 are cached too. */
      explicit: boolean;
    }
  | { on: false; error: { message: string; param: string } };

const OFF: CacheOptions = Object.freeze({ on: false });

/**
 * Whether this call uses the response cache and for how long: the request's header over the key's
 * `cache` setting (principal.cacheTtlSeconds: a number = on with that TTL). A bad header value is an
 * error naming the header, never a silent default.
 */
export function cacheOptionsOf(headers: IncomingHttpHeaders, principal: Principal, defaultTtlSeconds: number): CacheOptions {
  const asked = headers[CACHE_HEADER];
  const askedTtl = headers[CACHE_TTL_HEADER];
  const keyTtl = principal.cacheTtlSeconds ?? null;
  if (asked === undefined && askedTtl === undefined && keyTtl === null) return OFF; // the common case: nothing to parse
  let on: boolean;
  if (asked === undefined) on = keyTtl !== null;
  else {
    const value = (Array.isArray(asked) ? asked.join(',') : asked).trim().toLowerCase();
    if (value !== 'on' && value !== 'off') return { on: false, error: { message: `${CACHE_HEADER} must be \`on\` or \`off\`.`, param: CACHE_HEADER } };
    on = value === 'on';
  }
  let ttlSeconds = keyTtl ?? defaultTtlSeconds;
  if (askedTtl !== undefined) {
    const text = (Array.isArray(askedTtl) ? askedTtl.join(',') : askedTtl).trim();
    const seconds = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
    if (!(seconds >= 1 && seconds <= MAX_CACHE_TTL_SECONDS)) {
      return { on: false, error: { message: `${CACHE_TTL_HEADER} must be a whole number of seconds from 1 to ${MAX_CACHE_TTL_SECONDS}.`, param: CACHE_TTL_HEADER } };
    }
    ttlSeconds = seconds;
  }
  return on ? { on: true, ttlMs: ttlSeconds * 1000, explicit: asked !== undefined } : OFF;
}
