import { TokenCounter } from './token-counter.js';

describe('TokenCounter', () => {
  const counter = new TokenCounter({ idleMs: 200 });
  afterAll(() => counter.close());
  const words = (n: number) => Array(n).fill('hello').join(' '); // one token per word

  it('answers undefined when the parts fit, across parts', async () => {
    await expect(counter.countOver([words(100), words(40)], 150)).resolves.toBeUndefined();
  });

  it('answers the count so far once the parts pass the limit', async () => {
    const tokens = await counter.countOver([words(100), words(100)], 150);
    expect(tokens).toBeGreaterThan(150);
    expect(tokens).toBeLessThanOrEqual(200);
  });

  it('counts all the parts when asked for the whole count (a count_tokens estimate)', async () => {
    await expect(counter.count([words(100), words(40)])).resolves.toBe(140);
    await expect(counter.count([])).resolves.toBe(0);
  });

  it('counts special tokens as the text they are spelled with, instead of failing', async () => {
    await expect(counter.countOver(['<|endoftext|>'.repeat(50)], 10)).resolves.toBeGreaterThan(10);
  });

  it('counts in o200k_base by default and in cl100k_base when asked', async () => {
    // js-tiktoken counts "नमस्ते दुनिया" as 5 tokens in o200k_base and 13 in cl100k_base.
    const cl100k = new TokenCounter({ encoding: 'cl100k_base' });
    try {
      await expect(counter.countOver(['नमस्ते दुनिया'], 4)).resolves.toBe(5);
      await expect(cl100k.countOver(['नमस्ते दुनिया'], 12)).resolves.toBe(13);
    } finally {
      await cl100k.close();
    }
  });

  it('stops its worker after a quiet spell and starts a new one when needed', async () => {
    const quick = new TokenCounter({ idleMs: 50 });
    await expect(quick.countOver([words(100)], 10)).resolves.toBeGreaterThan(10);
    // The idle timer is 50 ms; on a busy machine it may fire late, so wait (bounded) for the worker to go.
    const worker = () => (quick as unknown as { worker?: unknown }).worker;
    for (const deadline = Date.now() + 5000; worker() !== undefined && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 25));
    expect(worker()).toBeUndefined();
    await expect(quick.countOver([words(100)], 10)).resolves.toBeGreaterThan(10);
    await quick.close();
  });

  it('answers a count that comes while an idle worker is stopping, on the next worker', async () => {
    const counter = new TokenCounter({ idleMs: 60_000 });
    await expect(counter.countOver([words(100)], 10)).resolves.toBeGreaterThan(10);
    const stopping = counter.close(); // as the idle timer does
    await expect(counter.countOver([words(100)], 10)).resolves.toBeGreaterThan(10);
    await stopping;
    await counter.close();
  });
});
