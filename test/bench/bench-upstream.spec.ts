import net from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { benchEmbedding, startBenchUpstream, type BenchUpstream } from './bench-upstream.js';

const MODEL = 'gpt-4o-mini-2024-07-18';
const KEY = 'sk-bench-upstream';
const CLAUDE = 'claude-sonnet-4-5-20250929';

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
  let anthropic: BenchUpstream;
  beforeAll(async () => {
    upstream = await startBenchUpstream({ model: MODEL, apiKey: KEY, streamChunks: 20 });
    slow = await startBenchUpstream({ model: MODEL, apiKey: KEY, streamChunks: 3, chunkDelayMs: 100 });
    anthropic = await startBenchUpstream({ format: 'anthropic', model: CLAUDE, apiKey: KEY, streamChunks: 20 });
  });
  afterAll(async () => {
    await upstream.close();
    await slow.close();
    await anthropic.close();
  });

  it('answers the openai client\'s embeddings call in both encodings with the same 1536 float32 values', async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: upstream.url, maxRetries: 0 });
    // The client asks for base64 by default and decodes it; float is asked for explicitly.
    const base64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'A few sentences. About the sea.' });
    const float = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'A few sentences. About the sea.', encoding_format: 'float' });
    expect(base64.model).toBe('text-embedding-3-small');
    expect(base64.usage.prompt_tokens).toBeGreaterThan(0);
    expect(base64.data[0]!.embedding).toHaveLength(1536);
    expect(float.data[0]!.embedding).toEqual(base64.data[0]!.embedding);
    expect(float.data[0]!.embedding).toEqual(benchEmbedding(1536));
  });

  it('answers the official Anthropic client with a message that carries usage, and a 401 for a wrong key', async () => {
    const client = new Anthropic({ apiKey: KEY, baseURL: new URL(anthropic.url).origin, maxRetries: 0 });
    const message = await client.messages.create({ model: CLAUDE, max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.model).toBe(CLAUDE);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^chunk1 chunk2 .* chunk20$/) });
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    const wrong = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: new URL(anthropic.url).origin, maxRetries: 0 });
    await expect(wrong.messages.create({ model: CLAUDE, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 401 });
  });

  it('streams Anthropic events the official client accepts: 20 text deltas, usage in message_delta, message_stop last', async () => {
    const client = new Anthropic({ apiKey: KEY, baseURL: new URL(anthropic.url).origin, maxRetries: 0 });
    const stream = await client.messages.create({ model: CLAUDE, max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }], stream: true });
    const types: string[] = [];
    let deltas = 0;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') deltas++;
      if (event.type === 'message_delta') expect(event.usage.output_tokens).toBeGreaterThan(0);
    }
    expect(deltas).toBe(20);
    expect(types[0]).toBe('message_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
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
