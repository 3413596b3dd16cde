import net from 'node:net';
import OpenAI from 'openai';
import { startBenchUpstream, type BenchUpstream } from './bench-upstream.js';

const MODEL = 'gpt-4o-mini-2024-07-18';
const KEY = 'sk-bench-upstream';

/** Sends raw bytes on one connection and collects what comes back until `done` says so. */
function raw(url: string, bytes: string, done: (text: string) => boolean): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (done(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('the benchmark upstream', () => {
  let upstream: BenchUpstream;
  let slow: BenchUpstream;
  beforeAll(async () => {
    upstream = await startBenchUpstream({ model: MODEL, apiKey: KEY, streamChunks: 20 });
    slow = await startBenchUpstream({ model: MODEL, apiKey: KEY, streamChunks: 3, chunkDelayMs: 100 });
  });
  afterAll(async () => {
    await upstream.close();
    await slow.close();
  });

  it("answers the official openai client with a chat completion that carries usage", async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: upstream.url, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.model).toBe(MODEL);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('streams 20 content chunks, the finish chunk and, when asked, the usage chunk', async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: upstream.url, maxRetries: 0 });
    for (const includeUsage of [true, false]) {
      const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: includeUsage } });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      const content = chunks.filter((c) => typeof c.choices[0]?.delta?.content === 'string' && c.choices[0].delta.content !== '');
      expect(content).toHaveLength(20);
      expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
      expect(chunks.some((c) => c.usage?.completion_tokens !== undefined)).toBe(includeUsage);
    }
  });

  it('refuses a wrong key with 401 in OpenAI format', async () => {
    const client = new OpenAI({ apiKey: 'sk-wrong', baseURL: upstream.url, maxRetries: 0 });
    await expect(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
  });

  it('answers requests sent back to back on one connection in order, and a body split across packets', async () => {
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x'.repeat(100_000) }] });
    const request = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${KEY}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const text = await raw(upstream.url, request + request.replace('/v1/chat/completions', '/v1/nothing'), (t) => t.includes('404 Not Found') && t.endsWith('}'));
    expect(text.indexOf('HTTP/1.1 200 OK')).toBe(0);
    expect(text.indexOf('HTTP/1.1 404 Not Found')).toBeGreaterThan(0);
  });

  it('refuses a POST without Content-Length (411) and closes', async () => {
    const text = await raw(upstream.url, `POST /v1/chat/completions HTTP/1.1\r\nauthorization: Bearer ${KEY}\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`, () => false);
    expect(text.startsWith('HTTP/1.1 411 Length Required')).toBe(true);
  });

  it('spaces a slow stream chunk by chunk: the first event at once, each next one chunkDelayMs later', async () => {
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true });
    const start = performance.now();
    const arrivals: number[] = [];
    const text = await raw(
      slow.url,
      `POST /v1/chat/completions HTTP/1.1\r\nauthorization: Bearer ${KEY}\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      (t) => {
        arrivals.push(performance.now() - start);
        return t.endsWith('0\r\n\r\n');
      },
    );
    // role, 3 content, finish, [DONE]: 6 events, 5 gaps of 100 ms
    expect(text.match(/data: /g)).toHaveLength(6);
    expect(arrivals[0]!).toBeLessThan(80);
    expect(arrivals.at(-1)!).toBeGreaterThanOrEqual(490);
  });
});
