import { approximateTokenCount } from './approximate-count.js';

describe('approximateTokenCount', () => {
  it('counts one token per four UTF-8 bytes, rounded up per part', () => {
    expect(approximateTokenCount(['Hello, world'])).toBe(3); // 12 bytes
    expect(approximateTokenCount(['Hello, world!'])).toBe(4); // 13 bytes
    expect(approximateTokenCount(['abc', 'abcde'])).toBe(3); // 1 + 2
    expect(approximateTokenCount([])).toBe(0);
  });

  it('counts bytes, not characters: non-ASCII text costs more', () => {
    expect(approximateTokenCount(['é'.repeat(8)])).toBe(4); // 16 bytes
    expect(approximateTokenCount(['日本語のテキスト'])).toBe(6); // 8 characters, 24 bytes
  });
});
