import { InputLimit } from './input-limit.js';

describe('InputLimit', () => {
  it('proves a prompt fits from its byte length alone, without the tokenizer', () => {
    const parts = InputLimit.promptText([{ role: 'user', content: 'x'.repeat(100) }]);
    expect(InputLimit.fitsByBytes(parts, 100)).toBe(true);
    expect(InputLimit.fitsByBytes(parts, 99)).toBe(false);
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(InputLimit.fitsByBytes(['é'.repeat(50)], 99)).toBe(false); // 100 bytes
  });

  it('collects the text of string contents and of array content parts', () => {
    const parts = InputLimit.promptText([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'hello' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
    ]);
    expect(parts).toEqual(['be brief', 'hello']);
  });

  it('measures a prompt over the limit exactly, and never calls the tokenizer when the bytes prove it fits', async () => {
    const calls: string[][] = [];
    const tokenizer = async (parts: string[]) => (calls.push(parts), { tokens: parts.join('').length / 2, method: 'o200k_base' as const });
    expect(InputLimit.measureOver(['x'.repeat(100)], 100, tokenizer)).toBeUndefined();
    expect(calls).toEqual([]);
    await expect(InputLimit.measureOver(['x'.repeat(300)], 100, tokenizer)).resolves.toEqual({ tokens: 150, method: 'o200k_base' });
    await expect(InputLimit.measureOver(['x'.repeat(180)], 100, tokenizer)).resolves.toBeUndefined(); // 180 bytes but 90 tokens
    expect(calls).toHaveLength(2);
  });
});
