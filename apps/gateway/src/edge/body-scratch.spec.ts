import { BodyScratch } from './body-scratch.js';

const bytesOf = (text: string, pieces: number): Buffer[] => {
  const all = Buffer.from(text);
  const step = Math.ceil(all.length / pieces);
  return Array.from({ length: pieces }, (_, i) => all.subarray(i * step, Math.min(all.length, (i + 1) * step))).filter((c) => c.length > 0);
};

describe('BodyScratch', () => {
  it('hands back a body of one chunk as that chunk', () => {
    const chunk = Buffer.from('{"a":1}');
    expect(new BodyScratch().join([chunk], chunk.length)).toBe(chunk);
  });

  it('joins chunks into the same memory for every body up to its size, each read before the next', () => {
    const scratch = new BodyScratch(1024 * 1024);
    const first = `{"prompt":"${'é'.repeat(50_000)}"}`;
    const a = scratch.join(bytesOf(first, 3), Buffer.byteLength(first));
    expect(a.toString('utf8')).toBe(first);
    const second = `{"p":"${'x'.repeat(70_000)}"}`;
    const b = scratch.join(bytesOf(second, 2), Buffer.byteLength(second));
    expect(b.toString('utf8')).toBe(second);
    // The second body reuses the first one's memory: no new buffer per request.
    expect(b.buffer).toBe(a.buffer);
  });

  it('grows when a body is larger than the scratch, and concatenates bodies above its cap into buffers of their own', () => {
    const scratch = new BodyScratch(200_000);
    const small = scratch.join(bytesOf('x'.repeat(1000), 2), 1000);
    const larger = scratch.join(bytesOf('y'.repeat(150_000), 4), 150_000);
    expect(larger.toString()).toBe('y'.repeat(150_000));
    expect(larger.buffer).not.toBe(small.buffer);
    const above = scratch.join(bytesOf('z'.repeat(300_000), 5), 300_000);
    expect(above.toString()).toBe('z'.repeat(300_000));
    expect(above.buffer).not.toBe(larger.buffer);
    // The scratch is still the one the 150 KB body grew.
    expect(scratch.join(bytesOf('w'.repeat(10), 2), 10).buffer).toBe(larger.buffer);
  });
});
