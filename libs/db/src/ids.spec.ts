import { newId } from './ids.js';

const body = (id: string): string => id.slice(id.indexOf('_') + 1);

describe('newId', () => {
  it('is the prefix and 26 base32 characters', () => {
    expect(newId('conn')).toMatch(/^conn_[a-z2-7]{26}$/);
  });

  it('never repeats across many pool refills, even within one millisecond', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20_000; i++) ids.add(newId('ur', 1_796_522_556_123));
    expect(ids.size).toBe(20_000);
  });

  it('sorts by creation time (byte order, as Postgres indexes text in the C and common locales)', () => {
    const times = [0, 1, 31, 32, 1_000, 1_796_522_556_123, 1_796_522_556_124, 1_796_522_557_000, 2 ** 48 - 1];
    const ids = times.map((t) => newId('usage', t));
    expect([...ids].sort()).toEqual(ids);
    expect([...ids].sort((a, b) => a.localeCompare(b, 'en-US'))).toEqual(ids);
  });

  it('starts with the millisecond (10 characters), then 80 random bits that use every value', () => {
    const a = body(newId('x', 1_796_522_556_123));
    const b = body(newId('x', 1_796_522_556_123));
    expect(a.slice(0, 10)).toBe(b.slice(0, 10));
    const seen = Array.from({ length: 16 }, () => new Set<string>());
    for (let i = 0; i < 2_000; i++) {
      const random = body(newId('x')).slice(10);
      for (let p = 0; p < 16; p++) seen[p]!.add(random[p]!);
    }
    for (let p = 0; p < 16; p++) expect(seen[p]!.size).toBe(32);
  });
});
