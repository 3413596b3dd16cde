import { InputLimit } from './input-limit.js';

describe('InputLimit', () => {
  const limit = new InputLimit();

  it('lets a prompt whose byte length is within the limit through without tokenizing', () => {
    const parts = InputLimit.promptText([{ role: 'user', content: 'x'.repeat(100) }]);
    expect(limit.exceeds(parts, 100)).toBeUndefined();
  });

  it('counts tokens when the bytes exceed the limit, and passes text that still fits', () => {
    // "hello " repeated is ~1 token per word: 600 bytes, ~100 tokens.
    const parts = InputLimit.promptText([{ role: 'user', content: 'hello '.repeat(100) }]);
    expect(limit.exceeds(parts, 150)).toBeUndefined();
  });

  it('reports the token count of a prompt over the limit, including array content parts', () => {
    const parts = InputLimit.promptText([
      { role: 'system', content: 'hello '.repeat(100) },
      { role: 'user', content: [{ type: 'text', text: 'hello '.repeat(100) }] },
    ]);
    const tokens = limit.exceeds(parts, 150);
    expect(tokens).toBeGreaterThan(150);
  });
});
