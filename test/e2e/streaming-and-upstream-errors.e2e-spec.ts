import { connect } from 'node:net';
import OpenAI from 'openai';
import { request } from 'undici';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { routeModel, waitForCostReport, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

/** What a client sees when the upstream misbehaves, and what metering records then. */
describe('streaming and upstream errors', () => {
  let fake: FakeOpenAI;
  let product: Product;
  let route: RoutedModel;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    product = await startProduct();
    route = await routeModel(product, { upstreamUrl: fake.url, prices: { input: '0.000001', output: '0.000002' }, maxOutputTokens: 1000, maxInputTokens: 50 });
    await waitUntilRoutable(product, route);
    client = new OpenAI({ apiKey: route.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  beforeEach(() => fake.reset());

  it('forwards the usage chunk when the client asks for it', async () => {
    fake.enqueue({ kind: 'completion', deltas: ['a', 'b', 'c'], usage: { promptTokens: 7, completionTokens: 3 } });
    const stream = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    const usage: unknown[] = [];
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage.push(chunk.usage);
    }
    expect(text).toBe('abc');
    expect(usage).toEqual([expect.objectContaining({ prompt_tokens: 7, completion_tokens: 3 })]);
  });

  it('ends a stream the upstream breaks with an error event, so the client cannot take it for complete', async () => {
    fake.enqueue({ kind: 'completion', deltas: ['one ', 'two ', 'three ', 'four'], breakAfterChunks: 3 });
    const stream = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'count' }], stream: true });
    let text = '';
    const consume = async (): Promise<void> => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    };
    await expect(consume()).rejects.toThrow();
    expect(text).toBe('one two ');
  });

  it('passes a rate limit through as 429 with retry-after, in OpenAI format', async () => {
    fake.enqueue({ kind: 'error', status: 429, retryAfter: 7 });
    const err = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('7');
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('rate_limited');
  });

  it('answers 502 in OpenAI format when the upstream cannot be reached', async () => {
    fake.enqueue({ kind: 'disconnect' });
    const err = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502 });
  });

  it('refuses max_tokens above the model limit before calling the upstream', async () => {
    const err = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'x' }], max_tokens: 5000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'max_tokens_exceeded', param: 'max_tokens' });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a prompt over the input limit, counting tokens only when the bytes exceed it', async () => {
    const ok = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'a short prompt' }] });
    expect(ok.choices).toHaveLength(1);
    const err = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'word '.repeat(200) }] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'input_limit_exceeded', param: 'messages' });
    expect(fake.requests).toHaveLength(1);
  });

  it('counts a special token spelled in a prompt as ordinary text (31 tokens fit 50; 61 do not)', async () => {
    const fits = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: '<|endoftext|>'.repeat(5) }] });
    expect(fits.choices).toHaveLength(1);
    const err = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: '<|endoftext|>'.repeat(10) }] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'input_limit_exceeded', param: 'messages', message: expect.stringContaining('accepts at most 50') });
    expect((err as { error: { details: unknown } }).error.details).toEqual({ model: route.modelName, limit: 50, measured: 61, tokenizer: 'o200k_base' });
    expect(fake.requests).toHaveLength(1);
  });

  it('answers a body that is not JSON (400), a content type that is not JSON (415) and an unknown /v1 path (404) in OpenAI format', async () => {
    const call = async (path: string, contentType: string, body: string): Promise<{ status: number; error: unknown }> => {
      const res = await request(`${product.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${route.clientKey}`, 'content-type': contentType }, body });
      return { status: res.statusCode, error: ((await res.body.json()) as { error: unknown }).error };
    };
    expect(await call('/v1/chat/completions', 'application/json', '{"model": ')).toEqual({
      status: 400,
      error: { message: expect.stringContaining('not valid JSON'), type: 'invalid_request_error', param: 'body', code: 'invalid_json' },
    });
    expect(await call('/v1/chat/completions', 'text/plain', '{}')).toMatchObject({ status: 415, error: { type: 'invalid_request_error', param: 'content-type', code: 'unsupported_media_type' } });
    expect(await call('/v1/chat/completions?x=1', 'application/json; charset=utf-8', '[]')).toMatchObject({ status: 400, error: { param: 'body' } });
    expect(await call('/v1/chat/completion', 'application/json', '{}')).toMatchObject({ status: 404, error: { code: 'unknown_url' } });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a body over V1_MAX_BODY_BYTES (32 MiB by default) from its Content-Length with 413, without reading it', async () => {
    const { hostname, port } = new URL(product.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          `POST /v1/chat/completions HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${route.clientKey}\r\nContent-Type: application/json\r\nContent-Length: ${64 * 1024 * 1024 + 1}\r\n\r\n{"model":`,
        );
      });
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer).toContain('"code":"request_too_large"');
  });

  it('reports the telemetry queue and memory on /metrics', async () => {
    const res = await fetch(`${product.url}/metrics`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_delay_p99_seconds [\d.e-]+/m);
    const queued = Number(/^gateway_telemetry_spans_queued_total (\d+)/m.exec(text)?.[1]);
    expect(queued).toBeGreaterThanOrEqual(3);
  });

  it('meters every completed call, streamed or not', async () => {
    const costs = await waitForCostReport(product, (r) => r.groups.some((g) => g.key === route.upstreamModel && g.requests >= 2));
    const report = costs.groups.find((g) => g.key === route.upstreamModel)!;
    // Completed calls with usage: the include_usage stream (7 in, 3 out) and the short prompt (default usage).
    expect(report.requests).toBeGreaterThanOrEqual(2);
  });
});
