import OpenAI from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { openAISchemaErrors, type OpenAISchemaName } from '../support/fake-upstream/openai-schemas.js';
import { routeModel, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

/** Every response the client received, cloned before the client read it, to check what went over the wire. */
interface Captured {
  url: string;
  status: number;
  headers: Headers;
  text: Promise<string>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The data events of an SSE body (`[DONE]` included as the string). */
function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .map((e) => e.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n'))
    .filter((d) => d.length > 0);
}

function expectSchema(name: OpenAISchemaName, value: unknown): void {
  expect({ name, errors: openAISchemaErrors(name, value) }).toEqual({ name, errors: [] });
}

/**
 * The OpenAI-format endpoints of /v1, driven with the official `openai` client against an
 * OpenAI-format upstream: every body and chunk the gateway sends is checked against OpenAI's
 * published schemas (test/fixtures/openai-openapi), and every answer carries the gateway's own
 * x-request-id.
 */
describe('/v1 OpenAI-format endpoints with the openai client', () => {
  let fake: FakeOpenAI;
  let product: Product;
  let route: RoutedModel;
  let client: OpenAI;
  const captured: Captured[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    product = await startProduct();
    route = await routeModel(product, { upstreamUrl: fake.url, modelName: 'team-gpt', upstreamModel: 'gpt-4o-mini' });
    await waitUntilRoutable(product, route);
    // A provider model serves one kind of endpoint: chat, completion or embedding.
    const instruct = await routeModel(product, { upstreamUrl: fake.url, modelName: 'team-instruct', upstreamModel: 'gpt-3.5-turbo-instruct', kind: 'completion' });
    const embed = await routeModel(product, { upstreamUrl: fake.url, modelName: 'team-embed', upstreamModel: 'text-embedding-3-small', kind: 'embedding' });
    await waitUntilRoutable(product, { ...instruct, clientKey: route.clientKey });
    await waitUntilRoutable(product, { ...embed, clientKey: route.clientKey });
    client = new OpenAI({
      apiKey: route.clientKey,
      baseURL: `${product.url}/v1`,
      maxRetries: 0,
      fetch: async (url: string | URL | Request, init?: RequestInit) => {
        const res = await fetch(url, init);
        captured.push({ url: String(url), status: res.status, headers: res.headers, text: res.clone().text() });
        return res;
      },
    });
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  beforeEach(() => {
    fake.reset();
    captured.length = 0;
  });

  afterEach(() => {
    // Every answer carries the gateway's own request id, never one a client or the upstream chose.
    for (const c of captured) expect({ url: c.url, id: c.headers.get('x-request-id') }).toEqual({ url: c.url, id: expect.stringMatching(UUID) });
  });

  it('answers a chat completion that matches OpenAI’s schema, passing the upstream bytes through', async () => {
    fake.enqueue({ kind: 'completion', content: 'Hello there.', usage: { promptTokens: 9, completionTokens: 3 } });
    const answer = await client.chat.completions.create({ model: 'team-gpt', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]?.message.content).toBe('Hello there.');
    expect(answer.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 3 });
    expect(fake.requests[0]?.body).toMatchObject({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expectSchema('CreateChatCompletionResponse', JSON.parse(await captured[0]!.text));
  });

  it('streams chunks that each match OpenAI’s chunk schema, ending with [DONE], without the usage chunk the client did not ask for', async () => {
    fake.enqueue({ kind: 'completion', deltas: ['a', 'b', 'c'], usage: { promptTokens: 4, completionTokens: 3 } });
    const stream = await client.chat.completions.create({ model: 'team-gpt', messages: [{ role: 'user', content: 'abc' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('abc');
    // The gateway asked the upstream for usage (metering needs it); the client did not.
    expect(fake.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const events = sseData(await captured[0]!.text);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: unknown[]; usage?: unknown });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) expectSchema('CreateChatCompletionStreamResponse', chunk);
    expect(chunks.some((c) => c.choices.length === 0 || c.usage)).toBe(false);
  });

  it('relays tool calls, whole and streamed', async () => {
    const toolCalls = [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }];
    fake.enqueue({ kind: 'completion', toolCalls }, { kind: 'completion', toolCalls });
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const whole = await client.chat.completions.create({ model: 'team-gpt', messages: [{ role: 'user', content: 'weather?' }], tools });
    expect(whole.choices[0]?.finish_reason).toBe('tool_calls');
    expect(whole.choices[0]?.message.tool_calls?.[0]).toMatchObject({ id: 'call_1', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    const stream = client.chat.completions.stream({ model: 'team-gpt', messages: [{ role: 'user', content: 'weather?' }], tools });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    expect(fake.requests[0]?.body).toMatchObject({ tools });
    expectSchema('CreateChatCompletionResponse', JSON.parse(await captured[0]!.text));
    for (const e of sseData(await captured[1]!.text).slice(0, -1)) expectSchema('CreateChatCompletionStreamResponse', JSON.parse(e));
  });

  it('passes JSON mode and n=2 on to the upstream and both choices back', async () => {
    fake.enqueue({
      kind: 'raw',
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'chatcmpl-two',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-4o-mini',
        choices: [0, 1].map((index) => ({ index, message: { role: 'assistant', content: `{"n":${index}}`, refusal: null }, logprobs: null, finish_reason: 'stop' })),
        usage: { prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 },
      }),
    });
    const answer = await client.chat.completions.create({ model: 'team-gpt', messages: [{ role: 'user', content: 'json' }], response_format: { type: 'json_object' }, n: 2 });
    expect(answer.choices.map((c) => JSON.parse(c.message.content!) as unknown)).toEqual([{ n: 0 }, { n: 1 }]);
    expect(fake.requests[0]?.body).toMatchObject({ response_format: { type: 'json_object' }, n: 2 });
    expectSchema('CreateChatCompletionResponse', JSON.parse(await captured[0]!.text));
  });

  it('answers /v1/completions, whole and streamed', async () => {
    fake.enqueue({ kind: 'completion', content: 'four' }, { kind: 'completion', deltas: ['fi', 've'] });
    const whole = await client.completions.create({ model: 'team-instruct', prompt: '2+2=' });
    expect(whole.choices[0]?.text).toBe('four');
    expect(fake.requests[0]).toMatchObject({ path: '/v1/completions', body: { model: 'gpt-3.5-turbo-instruct', prompt: '2+2=' } });
    expectSchema('CreateCompletionResponse', JSON.parse(await captured[0]!.text));
    const stream = await client.completions.create({ model: 'team-instruct', prompt: '2+3=', stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe('five');
    const events = sseData(await captured[1]!.text);
    expect(events.at(-1)).toBe('[DONE]');
    // OpenAI streams finish_reason null until a choice ends, which its published schema (shared by
    // whole answers and chunks) does not allow: the nulls are set aside, everything else is checked.
    for (const e of events.slice(0, -1)) {
      const chunk = JSON.parse(e) as { choices: { finish_reason: string | null }[] };
      expectSchema('CreateCompletionResponse', { ...chunk, choices: chunk.choices.map((c) => ({ ...c, finish_reason: c.finish_reason ?? 'stop' })) });
    }
  });

  it('answers /v1/embeddings in base64 (the client’s default) and as floats', async () => {
    const base64 = await client.embeddings.create({ model: 'team-embed', input: ['one', 'two'] });
    expect(fake.requests[0]).toMatchObject({ path: '/v1/embeddings', body: { model: 'text-embedding-3-small', encoding_format: 'base64' } });
    expect(base64.data).toHaveLength(2);
    expect(base64.data[0]?.embedding).toHaveLength(8); // the client decoded the base64 into 8 floats
    const wire = JSON.parse(await captured[0]!.text) as { data: { embedding: unknown }[] };
    expect(typeof wire.data[0]?.embedding).toBe('string');
    // OpenAI's schema describes the float form only: the base64 vectors are checked decoded.
    const decoded = wire.data.map((d) => {
      const bytes = Buffer.from(d.embedding as string, 'base64');
      return { ...d, embedding: Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4)) };
    });
    expectSchema('CreateEmbeddingResponse', { ...wire, data: decoded });
    const floats = await client.embeddings.create({ model: 'team-embed', input: 'one', encoding_format: 'float' });
    expect(floats.data[0]?.embedding).toHaveLength(8);
    expect(floats.data[0]?.embedding.every((n) => typeof n === 'number')).toBe(true);
    expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
    expectSchema('CreateEmbeddingResponse', JSON.parse(await captured[1]!.text));
  });

  it('refuses an endpoint the model’s kind does not serve with 400 wrong_model_kind, before any upstream is paid', async () => {
    const err = await client.embeddings.create({ model: 'team-gpt', input: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'wrong_model_kind', message: expect.stringContaining('/v1/chat/completions') });
    expect(fake.requests).toHaveLength(0);
    expectSchema('ErrorResponse', JSON.parse(await captured[0]!.text));
  });

  it('lists and retrieves the models the key may call, and answers 404 in OpenAI’s format for another', async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toContain('team-gpt');
    expectSchema('ListModelsResponse', JSON.parse(await captured[0]!.text));
    const one = await client.models.retrieve('team-gpt');
    expect(one).toMatchObject({ id: 'team-gpt', object: 'model' });
    expectSchema('Model', JSON.parse(await captured[1]!.text));
    const err = await client.models.retrieve('no-such-model').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err).toMatchObject({ code: 'model_not_found' });
    expectSchema('ErrorResponse', JSON.parse(await captured[2]!.text));
  });

  it('refuses a model whose adapter has no completions endpoint with 400 naming the adapter, before any upstream is paid', async () => {
    const claude = await routeModel(product, { upstreamUrl: 'http://127.0.0.1:9', adapter: 'anthropic', modelName: 'team-claude-completions', kind: 'completion' });
    await waitUntilRoutable(product, claude);
    const err = await client.completions.create({ model: 'team-claude-completions', prompt: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'unsupported_operation', message: expect.stringContaining('anthropic') });
    expectSchema('ErrorResponse', JSON.parse(await captured[0]!.text));
  });

  it('ignores a client’s x-request-id: the id is always the gateway’s own', async () => {
    fake.enqueue({ kind: 'completion', content: 'ok' });
    const res = await fetch(`${product.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${route.clientKey}`, 'content-type': 'application/json', 'x-request-id': 'client-chosen-id' },
      body: JSON.stringify({ model: 'team-gpt', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(UUID);
    // The upstream's own id travels beside it.
    expect(res.headers.get('x-upstream-request-id')).toBeTruthy();
    const bad = await fetch(`${product.url}/v1/embeddings`, { method: 'POST', headers: { authorization: 'Bearer sk-gw-wrong', 'content-type': 'application/json', 'x-request-id': 'mine' }, body: '{}' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('x-request-id')).toMatch(UUID);
    const admin = await fetch(`${product.url}/admin/connections`, { headers: { authorization: `Bearer ${product.adminKey}`, 'x-request-id': 'mine' } });
    expect(admin.headers.get('x-request-id')).toMatch(UUID);
  });
});
