import { ResponseCache, type CachedAnswer } from './response-cache.js';

const answer = (bytes: number, text = 'x'): CachedAnswer => ({ status: 200, contentType: 'application/json', body: Buffer.alloc(bytes, text), stream: false, facts: {} });

describe('ResponseCache', () => {
  it('serves an answer until its TTL runs out, then forgets it', () => {
    let now = 1_000;
    const cache = new ResponseCache(1024 * 1024, () => now);
    expect(cache.set('k', answer(10), 5_000)).toBe(true);
    now += 4_999;
    expect(cache.get('k')?.body.length).toBe(10);
    now += 1;
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });

  it('stays within its bound in bytes by evicting the least recently used first', () => {
    const cache = new ResponseCache(8 * 1000 * 8); // entries of up to 8,000 bytes
    const size = 4000;
    for (let i = 0; i < 16; i++) cache.set(`k${i}`, answer(size), 60_000);
    expect(cache.bytes).toBeLessThanOrEqual(cache.maxBytes);
    const kept = cache.size;
    expect(kept).toBeLessThan(16);
    // k15 was written last and is kept; k0 went first.
    expect(cache.get('k0')).toBeUndefined();
    expect(cache.get('k15')).toBeDefined();
    // Reading an entry makes it recent: the oldest unread one goes instead.
    const oldest = 16 - kept;
    expect(cache.get(`k${oldest}`)).toBeDefined();
    cache.set('new', answer(size), 60_000);
    expect(cache.get(`k${oldest}`)).toBeDefined();
    expect(cache.get(`k${oldest + 1}`)).toBeUndefined();
  });

  it('refuses an answer larger than an eighth of its bound, and a TTL of 0', () => {
    const cache = new ResponseCache(8 * 1024);
    expect(cache.set('big', answer(1024), 60_000)).toBe(false); // with its overhead, over 1 KiB
    expect(cache.set('zero', answer(10), 0)).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('replaces an entry written again, counting its bytes once', () => {
    const cache = new ResponseCache(1024 * 1024);
    cache.set('k', answer(100, 'a'), 60_000);
    const before = cache.bytes;
    cache.set('k', answer(100, 'b'), 60_000);
    expect(cache.bytes).toBe(before);
    expect(cache.get('k')?.body.toString()).toBe('b'.repeat(100));
  });
});
