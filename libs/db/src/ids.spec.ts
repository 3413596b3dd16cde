import { newId } from './ids.js';

describe('newId', () => {
  it('is the prefix and 26 base32 characters (128 bits)', () => {
    expect(newId('conn')).toMatch(/^conn_[a-z2-7]{26}$/);
  });

  it('never repeats across many pool refills', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20_000; i++) ids.add(newId('ur'));
    expect(ids.size).toBe(20_000);
  });

  it('uses every bit: each of the 26 positions takes many values', () => {
    const seen = Array.from({ length: 26 }, () => new Set<string>());
    for (let i = 0; i < 2_000; i++) {
      const body = newId('x').slice(2);
      for (let p = 0; p < 26; p++) seen[p]!.add(body[p]!);
    }
    // 25 full characters of 5 bits, and a last one of 3 bits (128 = 25 * 5 + 3).
    for (let p = 0; p < 25; p++) expect(seen[p]!.size).toBe(32);
    expect(seen[25]!.size).toBe(8);
  });
});
