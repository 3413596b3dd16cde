import type { Principal } from '../auth/principal.js';
import { cacheOptionsOf } from './cache-options.js';

const key: Principal = { keyId: 'k', name: 'client', role: 'client' as Principal['role'], organisationId: 'org', projectId: null };

describe('cacheOptionsOf', () => {
  it('is off unless the request or the key asks', () => {
    expect(cacheOptionsOf({}, key, 300)).toEqual({ on: false });
    expect(cacheOptionsOf({ 'x-gateway-cache': 'on' }, key, 300)).toEqual({ on: true, ttlMs: 300_000, explicit: true });
    expect(cacheOptionsOf({}, { ...key, cacheTtlSeconds: 60 }, 300)).toEqual({ on: true, ttlMs: 60_000, explicit: false });
  });

  it('lets a request turn a key’s cache off, and set its own TTL', () => {
    expect(cacheOptionsOf({ 'x-gateway-cache': 'OFF' }, { ...key, cacheTtlSeconds: 60 }, 300)).toEqual({ on: false });
    expect(cacheOptionsOf({ 'x-gateway-cache': 'on', 'x-gateway-cache-ttl': '5' }, { ...key, cacheTtlSeconds: 60 }, 300)).toEqual({ on: true, ttlMs: 5_000, explicit: true });
    expect(cacheOptionsOf({ 'x-gateway-cache-ttl': '5' }, { ...key, cacheTtlSeconds: 60 }, 300)).toEqual({ on: true, ttlMs: 5_000, explicit: false });
    // A TTL alone does not turn the cache on.
    expect(cacheOptionsOf({ 'x-gateway-cache-ttl': '5' }, key, 300)).toEqual({ on: false });
  });

  it('names the header of a bad value', () => {
    expect(cacheOptionsOf({ 'x-gateway-cache': 'yes' }, key, 300)).toMatchObject({ on: false, error: { param: 'x-gateway-cache' } });
    for (const ttl of ['0', '-1', '1.5', 'soon', '99999999999', String(30 * 24 * 3600 + 1)]) {
      expect(cacheOptionsOf({ 'x-gateway-cache': 'on', 'x-gateway-cache-ttl': ttl }, key, 300)).toMatchObject({ on: false, error: { param: 'x-gateway-cache-ttl' } });
    }
  });
});
