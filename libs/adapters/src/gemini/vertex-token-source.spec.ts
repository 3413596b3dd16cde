import { VertexTokenCache, type AccessToken, type ServiceAccountKey } from './vertex-token-source.js';

const account = (email: string): string =>
  JSON.stringify({ type: 'service_account', client_email: email, private_key: '-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n', token_uri: 'http://127.0.0.1:9/token' });

/** A token endpoint under the test's control: each fetch waits until released, tokens live `lifetimeMs`. */
function fakeEndpoint(clock: { now: number }, lifetimeMs: number) {
  const fetched: ServiceAccountKey[] = [];
  const pending: Array<(t: AccessToken) => void> = [];
  let failNext = false;
  let issued = 0;
  return {
    fetched,
    failNext: () => (failNext = true),
    release: () => {
      for (const resolve of pending.splice(0)) resolve({ token: `tok-${++issued}`, expiresAt: clock.now + lifetimeMs });
    },
    fetch: (key: ServiceAccountKey): Promise<AccessToken> => {
      fetched.push(key);
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('invalid_grant: Invalid JWT Signature.'));
      }
      return new Promise((resolve) => pending.push(resolve));
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('VertexTokenCache', () => {
  it('fetches once for many concurrent calls and reuses the token until shortly before it expires', async () => {
    const clock = { now: 1_000_000 };
    const endpoint = fakeEndpoint(clock, 3600_000);
    const cache = new VertexTokenCache(endpoint.fetch, () => clock.now);
    const calls = Array.from({ length: 50 }, () => cache.token(account('a@p.iam.gserviceaccount.com')));
    await flush();
    expect(endpoint.fetched).toHaveLength(1);
    endpoint.release();
    expect(new Set(await Promise.all(calls))).toEqual(new Set(['tok-1']));
    clock.now += 54 * 60_000; // 54 of 60 minutes: still more than 5 minutes left
    for (let i = 0; i < 100; i++) expect(await cache.token(account('a@p.iam.gserviceaccount.com'))).toBe('tok-1');
    expect(endpoint.fetched).toHaveLength(1);
    expect(endpoint.fetched[0]).toMatchObject({ client_email: 'a@p.iam.gserviceaccount.com', token_uri: 'http://127.0.0.1:9/token' });
  });

  it('refreshes before expiry, serving the still-valid token while the new one is fetched, with one fetch', async () => {
    const clock = { now: 0 };
    const endpoint = fakeEndpoint(clock, 3600_000);
    const cache = new VertexTokenCache(endpoint.fetch, () => clock.now);
    const first = cache.token(account('a@p'));
    await flush();
    endpoint.release();
    expect(await first).toBe('tok-1');
    clock.now = 56 * 60_000; // within 5 minutes of expiry
    expect(await cache.token(account('a@p'))).toBe('tok-1');
    expect(await cache.token(account('a@p'))).toBe('tok-1');
    expect(endpoint.fetched).toHaveLength(2);
    endpoint.release();
    await flush();
    expect(await cache.token(account('a@p'))).toBe('tok-2');
    expect(endpoint.fetched).toHaveLength(2);
  });

  it('refreshes a short-lived token at half its life, and waits for a new one once the old has expired', async () => {
    const clock = { now: 0 };
    const endpoint = fakeEndpoint(clock, 2000);
    const cache = new VertexTokenCache(endpoint.fetch, () => clock.now);
    const first = cache.token(account('a@p'));
    await flush();
    endpoint.release();
    await first;
    clock.now = 900;
    expect(await cache.token(account('a@p'))).toBe('tok-1');
    expect(endpoint.fetched).toHaveLength(1);
    clock.now = 2500; // expired, no refresh happened meanwhile: the call must wait
    const late = cache.token(account('a@p'));
    await flush();
    expect(endpoint.fetched).toHaveLength(2);
    endpoint.release();
    expect(await late).toBe('tok-2');
  });

  it('keeps one token per service account, and a failed fetch fails those calls only, the next call fetching again', async () => {
    const clock = { now: 0 };
    const endpoint = fakeEndpoint(clock, 3600_000);
    const cache = new VertexTokenCache(endpoint.fetch, () => clock.now);
    endpoint.failNext();
    await expect(cache.token(account('a@p'))).rejects.toThrow('invalid_grant');
    const a = cache.token(account('a@p'));
    const b = cache.token(account('b@p'));
    await flush();
    expect(endpoint.fetched.map((k) => k.client_email)).toEqual(['a@p', 'a@p', 'b@p']);
    endpoint.release();
    expect(await a).not.toBe(await b);
  });

  it('refuses a secret that is not a service-account key without calling the endpoint', async () => {
    const endpoint = fakeEndpoint({ now: 0 }, 1000);
    const cache = new VertexTokenCache(endpoint.fetch);
    await expect(cache.token('{"type":"authorized_user"}')).rejects.toThrow('must be a key of type service_account');
    expect(endpoint.fetched).toHaveLength(0);
  });
});
