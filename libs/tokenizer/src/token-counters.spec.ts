import { TokenCounters } from './token-counters.js';

describe('TokenCounters', () => {
  const counters = new TokenCounters({ idleMs: 200 });
  afterAll(() => counters.close());
  const text = 'नमस्ते दुनिया'; // js-tiktoken: 5 tokens in o200k_base, 13 in cl100k_base; 37 UTF-8 bytes

  it('counts with the encoding a definition names, o200k_base when none does', async () => {
    await expect(counters.count('cl100k_base', [text])).resolves.toEqual({ tokens: 13, method: 'cl100k_base' });
    await expect(counters.count('o200k_base', [text])).resolves.toEqual({ tokens: 5, method: 'o200k_base' });
    await expect(counters.count(undefined, [text])).resolves.toEqual({ tokens: 5, method: 'o200k_base' });
  });

  it('estimates for a model without a public tokenizer, and says so', async () => {
    await expect(counters.count('approximate', [text, 'abcd'])).resolves.toEqual({ tokens: Math.ceil(37 / 4) + 1, method: 'approximate' });
    await expect(counters.count('none', ['abcdefgh'])).resolves.toEqual({ tokens: 2, method: 'approximate' });
  });

  it('starts one worker per encoding used, and reuses it', () => {
    expect(counters.encoding('cl100k_base')).toBe(counters.encoding('cl100k_base'));
    expect(counters.encoding('cl100k_base')).not.toBe(counters.encoding('o200k_base'));
  });
});
