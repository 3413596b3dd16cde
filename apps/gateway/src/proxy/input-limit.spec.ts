import { InputLimit } from './input-limit.js';
import { TokenCounter } from './token-counter.js';

describe('InputLimit and TokenCounter', () => {
  const limit = new TokenCounter(200);
  afterAll(() => limit.close());

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
    await expect(limit.countOver(parts, 150)).resolves.toBeUndefined();
  });

  it('reports the token count of a prompt over the limit, including array content parts', async () => {
    const parts = InputLimit.promptText([
      { role: 'system', content: 'hello '.repeat(100) },
      { role: 'user', content: [{ type: 'text', text: 'hello '.repeat(100) }] },
    ]);
    expect(parts).toHaveLength(2);
    const tokens = await limit.countOver(parts, 150);
    expect(tokens).toBeGreaterThan(150);
    expect(tokens).toBeLessThanOrEqual(210);
  });

  it('stops its worker after a quiet spell and starts a new one when needed', async () => {
    const counter = new TokenCounter(50);
    await expect(counter.countOver(['hello '.repeat(100)], 10)).resolves.toBeGreaterThan(10);
    await new Promise((r) => setTimeout(r, 200));
    expect((counter as unknown as { worker?: unknown }).worker).toBeUndefined();
    await expect(counter.countOver(['hello '.repeat(100)], 10)).resolves.toBeGreaterThan(10);
    await counter.close();
  });
});
