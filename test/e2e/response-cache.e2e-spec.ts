import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { fakeErrors, startFakeAnthropic, startFakeOpenAI, type FakeAnthropic, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { adminCall, routeModel, waitForCostReport, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

const CACHE_ON = { 'x-gateway-cache': 'on' };

/**
 * The response cache (issue 15.6) through the running product with the real clients: a repeated
 * request is answered from the cache (x-gateway-cache: hit) without calling the upstream, streams
 * are replayed with their framing for the openai and @anthropic-ai/sdk clients, entries expire with
 * their TTL, errors are never kept, and a hit is recorded as a cache hit at zero provider cost.
 * (Across organisations: the key holds the organisation, cache-key.spec.ts and
 * response-cache.service.spec.ts; the product has one organisation until SSO.)
 */
describe('response cache', () => {
  let openAIFake: FakeOpenAI;
  let anthropicFake: FakeAnthropic;
  let product: Product;
  let gpt: RoutedModel;
  let claude: RoutedModel;
  let openai: OpenAI;

  beforeAll(async () => {
    openAIFake = await startFakeOpenAI();
    anthropicFake = await startFakeAnthropic();
    product = await startProduct();
    gpt = await routeModel(product, { upstreamUrl: openAIFake.url, modelName: 'cached-gpt', upstreamModel: 'gpt-cached', prices: { input: '0.000001', output: '0.000002' } });
    claude = await routeModel(product, { upstreamUrl: anthropicFake.url, adapter: 'anthropic', modelName: 'cached-claude', upstreamModel: 'claude-cached' });
    await waitUntilRoutable(product, gpt);
    await waitUntilRoutable(product, claude);
    openai = new OpenAI({ apiKey: gpt.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await openAIFake?.close();
    await anthropicFake?.close();
  }, 60_000);

  const ask = (content: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}, headers: Record<string, string> = CACHE_ON) =>
    openai.chat.completions.create({ model: 'cached-gpt', messages: [{ role: 'user', content }], ...extra }, { headers }).withResponse();

  it('answers a repeated request from the cache without calling the upstream, and says hit or miss', async () => {
    openAIFake.enqueue({ kind: 'completion', content: 'first answer' }, { kind: 'completion', content: 'second answer' });
    const before = openAIFake.requests.length;
    const miss = await ask('what is cached?', { temperature: 0.7 });
    expect(miss.response.headers.get('x-gateway-cache')).toBe('miss');
    expect(miss.data.choices[0]?.message.content).toBe('first answer');
    // The same request, its keys in another order and another end user: the same answer.
    const hit = await openai.chat.completions.create({ temperature: 0.7, messages: [{ content: 'what is cached?', role: 'user' }], model: 'cached-gpt', user: 'someone-else' }, { headers: CACHE_ON }).withResponse();
    expect(hit.response.headers.get('x-gateway-cache')).toBe('hit');
    expect(hit.data).toEqual(miss.data);
    expect(hit.response.headers.get('x-request-id')).not.toBe(miss.response.headers.get('x-request-id'));
    expect(openAIFake.requests.length - before).toBe(1);
    // Another question is a miss: the upstream answers it.
    const other = await ask('something else?', { temperature: 0.7 });
    expect(other.response.headers.get('x-gateway-cache')).toBe('miss');
    expect(other.data.choices[0]?.message.content).toBe('second answer');
    expect(openAIFake.requests.length - before).toBe(2);
  });

  it('leaves calls alone unless asked, and lets a request bypass the cache', async () => {
    openAIFake.enqueue({ kind: 'completion', content: 'one' }, { kind: 'completion', content: 'two' }, { kind: 'completion', content: 'three' });
    const plain = await ask('not cached', {}, {});
    expect(plain.response.headers.get('x-gateway-cache')).toBeNull();
    await ask('not cached'); // now cached
    const bypass = await ask('not cached', {}, { 'x-gateway-cache': 'off' });
    expect(bypass.response.headers.get('x-gateway-cache')).toBeNull();
    expect(bypass.data.choices[0]?.message.content).toBe('three');
  });

  it('caches every call of a key whose cache setting is on, unless a request says off', async () => {
    const created = await adminCall<{ key: string; cacheTtlSeconds: number | null }>(product, 'POST', '/admin/gateway-keys', { name: 'cached-key', cacheTtlSeconds: 60 });
    expect(created.cacheTtlSeconds).toBe(60);
    const bad = await fetch(`${product.url}/admin/gateway-keys`, { method: 'POST', headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bad-cache', cacheTtlSeconds: 0 }) });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('cacheTtlSeconds');
    const keyed = new OpenAI({ apiKey: created.key, baseURL: `${product.url}/v1`, maxRetries: 0 });
    openAIFake.enqueue({ kind: 'completion', content: 'by the key' }, { kind: 'completion', content: 'asked off' });
    const call = (headers: Record<string, string> = {}) => keyed.chat.completions.create({ model: 'cached-gpt', messages: [{ role: 'user', content: 'key default' }] }, { headers }).withResponse();
    // The key is live on the gateway within a second (its change event).
    let first = await call().catch((e: unknown) => e);
    for (let i = 0; i < 50 && (first as { status?: number }).status === 401; i++) {
      await new Promise((r) => setTimeout(r, 100));
      first = await call().catch((e: unknown) => e);
    }
    expect((first as { response: Response }).response.headers.get('x-gateway-cache')).toBe('miss');
    const second = await call();
    expect(second.response.headers.get('x-gateway-cache')).toBe('hit');
    expect(second.data.choices[0]?.message.content).toBe('by the key');
    const off = await call({ 'x-gateway-cache': 'off' });
    expect(off.response.headers.get('x-gateway-cache')).toBeNull();
    expect(off.data.choices[0]?.message.content).toBe('asked off');
  });

  it('serves an entry until its TTL runs out, then asks the upstream again', async () => {
    openAIFake.enqueue({ kind: 'completion', content: 'short-lived' }, { kind: 'completion', content: 'fresh' });
    // 3 s, so the hit is asked for well inside the TTL even on a busy machine.
    const headers = { ...CACHE_ON, 'x-gateway-cache-ttl': '3' };
    await ask('ttl?', {}, headers);
    expect((await ask('ttl?', {}, headers)).response.headers.get('x-gateway-cache')).toBe('hit');
    // The hit shows the entry was stored before now: 3.1 s on, it has run out.
    await new Promise((r) => setTimeout(r, 3100));
    const expired = await ask('ttl?', {}, headers);
    expect(expired.response.headers.get('x-gateway-cache')).toBe('miss');
    expect(expired.data.choices[0]?.message.content).toBe('fresh');
  });

  it('never keeps an error', async () => {
    openAIFake.enqueue(fakeErrors.contextLengthExceeded(), { kind: 'completion', content: 'recovered' });
    const failed = await ask('fails first', {}).catch((e: unknown) => e);
    expect(failed).toMatchObject({ status: 400 });
    const next = await ask('fails first');
    expect(next.response.headers.get('x-gateway-cache')).toBe('miss');
    expect(next.data.choices[0]?.message.content).toBe('recovered');
  });

  it('refuses a bad cache header with a 400 naming it', async () => {
    const bad = await ask('bad header', {}, { 'x-gateway-cache-ttl': 'forever', 'x-gateway-cache': 'on' }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, code: 'invalid_cache_header', param: 'x-gateway-cache-ttl' });
  });

  it('replays a stream to the openai client with the same bytes and framing', async () => {
    openAIFake.enqueue({ kind: 'completion', content: 'streamed once only' });
    const before = openAIFake.requests.length;
    const body = JSON.stringify({ model: 'cached-gpt', stream: true, messages: [{ role: 'user', content: 'stream me' }] });
    const raw = () => fetch(`${product.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${gpt.clientKey}`, 'content-type': 'application/json', ...CACHE_ON }, body });
    const first = await raw();
    const firstText = await first.text();
    expect(first.headers.get('x-gateway-cache')).toBe('miss');
    expect(firstText.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const second = await raw();
    expect(second.headers.get('x-gateway-cache')).toBe('hit');
    expect(second.headers.get('content-type')).toContain('text/event-stream');
    expect(await second.text()).toBe(firstText);
    // And through the SDK: the chunks assemble to the same text.
    const stream = await openai.chat.completions.create({ model: 'cached-gpt', stream: true, messages: [{ role: 'user', content: 'stream me' }] }, { headers: CACHE_ON });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('streamed once only');
    expect(openAIFake.requests.length - before).toBe(1);
  });

  it('replays a stream to the @anthropic-ai/sdk client, event by event', async () => {
    anthropicFake.enqueue({ kind: 'message', content: 'claude said this once' });
    const before = anthropicFake.requests.length;
    const client = new Anthropic({ apiKey: claude.clientKey, baseURL: product.url, maxRetries: 0, defaultHeaders: CACHE_ON });
    const run = async () => {
      const stream = client.messages.stream({ model: 'cached-claude', max_tokens: 100, messages: [{ role: 'user', content: 'hello cache' }] });
      const types: string[] = [];
      stream.on('streamEvent', (e) => types.push(e.type));
      const message = await stream.finalMessage();
      return { message, types };
    };
    const first = await run();
    const second = await run();
    expect(second.message.content[0]).toMatchObject({ type: 'text', text: 'claude said this once' });
    expect(second.message).toEqual(first.message);
    expect(second.types).toEqual(first.types);
    expect(second.types[0]).toBe('message_start');
    expect(second.types.at(-1)).toBe('message_stop');
    expect(anthropicFake.requests.length - before).toBe(1);
  });

  it('records a hit as a cache hit at zero provider cost in the usage records and the cost report', async () => {
    // A model of its own, so its report group holds only these calls.
    const priced = await routeModel(product, { upstreamUrl: openAIFake.url, modelName: 'cached-priced', upstreamModel: 'gpt-cached-priced', prices: { input: '0.000001', output: '0.000002' } });
    await waitUntilRoutable(product, priced);
    const client = new OpenAI({ apiKey: priced.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    openAIFake.script('gpt-cached-priced', { kind: 'completion', content: 'paid once', usage: { promptTokens: 100, completionTokens: 10 } });
    const call = () => client.chat.completions.create({ model: 'cached-priced', messages: [{ role: 'user', content: 'how much?' }] }, { headers: CACHE_ON }).withResponse();
    expect((await call()).response.headers.get('x-gateway-cache')).toBe('miss');
    expect((await call()).response.headers.get('x-gateway-cache')).toBe('hit');
    const report = await waitForCostReport(product, (r) => r.groups.some((g) => g.key === 'gpt-cached-priced' && g.requests >= 2 && g.unpricedRequests === 0));
    const group = report.groups.find((g) => g.key === 'gpt-cached-priced') as unknown as { requests: number; cost: string; cacheHitRequests: number; inputTokens: number };
    // Only the miss was paid: 100 x 0.000001 + 10 x 0.000002 = 0.00012.
    expect(group).toMatchObject({ requests: 2, cacheHitRequests: 1, cost: '0.00012', inputTokens: 200 });
    const records = await adminCall<{ items: { cacheHit: boolean; cost: string | null; priced: boolean }[] }>(product, 'GET', '/admin/usage/records?model=gpt-cached-priced');
    expect(records.items.map((r) => ({ cacheHit: r.cacheHit, cost: r.cost, priced: r.priced })).sort((a, b) => Number(a.cacheHit) - Number(b.cacheHit))).toEqual([
      { cacheHit: false, cost: '0.00012', priced: true },
      { cacheHit: true, cost: '0', priced: true },
    ]);
  });
});
