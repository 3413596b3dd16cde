import { InputLimit } from './input-limit.js';

describe('InputLimit', () => {
  const limit = new InputLimit();

  it('proves a prompt fits from its byte length alone, without the tokenizer', () => {
    const parts = InputLimit.promptText([{ role: 'user', content: 'x'.repeat(100) }]);
    expect(InputLimit.fitsByBytes(parts, 100)).toBe(true);
    expect(InputLimit.fitsByBytes(parts, 99)).toBe(false);
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(InputLimit.fitsByBytes(['é'.repeat(50)], 99)).toBe(false); // 100 bytes
  });

  it('passes text whose bytes exceed the limit but whose tokens do not', async () => {
    // "hello " repeated is ~1 token per word: 600 bytes, ~100 tokens.
    const parts = InputLimit.promptText([{ role: 'user', content: 'hello '.repeat(100) }]);
    expect(InputLimit.fitsByBytes(parts, 150)).toBe(false);
    await expect(limit.tokensOver(parts, 150)).resolves.toBeUndefined();
  });

  it('reports the token count of a prompt over the limit, including array content parts', async () => {
    const parts = InputLimit.promptText([
      { role: 'system', content: 'hello '.repeat(100) },
      { role: 'user', content: [{ type: 'text', text: 'hello '.repeat(100) }] },
    ]);
    expect(parts).toHaveLength(2);
    const tokens = await limit.tokensOver(parts, 150);
    expect(tokens).toBeGreaterThan(150);
    expect(tokens).toBeLessThanOrEqual(210);
  });
});
