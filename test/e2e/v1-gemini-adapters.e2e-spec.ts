import { generateKeyPairSync } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { fakeGeminiErrors, fakeGeminiVector, startFakeGemini, type FakeGemini, type RecordedRequest } from '../support/fake-upstream/index.js';
import { adminCall, waitForCostReport, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

/**
 * The google-ai-studio and vertex-ai adapters end to end (issue 13): the official `openai` and
 * `@anthropic-ai/sdk` clients call the gateway, which calls the fake Gemini upstream (AI Studio's URL
 * form with an API key; Vertex's with an OAuth token from the service account, fetched once from the
 * fake's token endpoint and cached), for chat whole and streamed, tools, an image, a 429, an error in
 * mid-stream and embeddings; each call priced from the usageMetadata.
 */

const API_KEY = 'AIzaSyE2e-gemini-0123456789abcdefghijk';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const PRICES = { input: '0.0000003', cache_read: '0.00000003', output: '0.0000025', reasoning: '0.0000025' };

interface Flavour {
  adapter: 'google-ai-studio' | 'vertex-ai';
  /** The connection's body beside name and adapter. */
  connection: (fake: FakeGemini) => Record<string, unknown>;
  /** The path a chat call reaches for this upstream model and method. */
  path: (model: string, method: string) => string;
  embeddingMethod: string;
}

const serviceAccountJson = (fake: FakeGemini, email: string): string =>
  JSON.stringify({
    type: 'service_account',
    project_id: 'acme-e2e-1',
    private_key_id: 'kid-e2e',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: email,
    client_id: '1234567890',
    token_uri: fake.tokenUri,
  });

const FLAVOURS: Flavour[] = [
  {
    adapter: 'google-ai-studio',
    connection: (fake) => ({ baseUrl: fake.url, apiKey: API_KEY }),
    path: (model, method) => `/v1beta/models/${model}:${method}`,
    embeddingMethod: 'batchEmbedContents',
  },
  {
    adapter: 'vertex-ai',
    connection: (fake) => ({ baseUrl: fake.url, settings: { location: 'europe-west4', serviceAccountJson: serviceAccountJson(fake, 'gateway@acme-e2e-1.iam.gserviceaccount.com') } }),
    path: (model, method) => `/v1/projects/acme-e2e-1/locations/europe-west4/publishers/google/models/${model}:${method}`,
    embeddingMethod: 'predict',
  },
];

let seq = 0;

/** A connection of the flavour, a chat and an embedding model on it (priced), and a client key. */
async function routeGemini(
  product: Product,
  flavour: Flavour,
  fake: FakeGemini,
): Promise<RoutedModel & { embeddingModel: string; upstreamEmbeddingModel: string; pricedModel: string; upstreamPricedModel: string }> {
  const n = ++seq;
  const connection = await adminCall<{ id: string }>(product, 'POST', '/admin/connections', { name: `gemini-${n}-${Date.now()}`, adapter: flavour.adapter, ...flavour.connection(fake) });
  const upstreamModel = `gemini-2.5-flash-e2e${n}`;
  const upstreamEmbeddingModel = `text-embedding-e2e${n}`;
  await adminCall(product, 'POST', '/admin/provider-models', { name: `team-gemini-${n}`, connectionId: connection.id, upstreamModel });
  await adminCall(product, 'POST', '/admin/provider-models', { name: `team-embed-${n}`, connectionId: connection.id, upstreamModel: upstreamEmbeddingModel, kind: 'embedding' });
  await adminCall(product, 'POST', '/admin/model-definitions', { name: `def-gemini-${n}-${Date.now()}`, matchPattern: `^${upstreamModel}$`, prices: PRICES, effectiveFrom: '2024-01-01T00:00:00Z' });
  // A priced model of its own, so its cost-report group holds only the pricing test's call; set up
  // now, so metering knows its definition long before that call (it learns of it by a change event).
  const upstreamPricedModel = `gemini-priced-${flavour.adapter}-${n}-${Date.now()}`;
  await adminCall(product, 'POST', '/admin/provider-models', { name: `team-gemini-priced-${n}`, connectionId: connection.id, upstreamModel: upstreamPricedModel });
  await adminCall(product, 'POST', '/admin/model-definitions', { name: `def-${upstreamPricedModel}`, matchPattern: `^${upstreamPricedModel}$`, prices: PRICES, effectiveFrom: '2024-01-01T00:00:00Z' });
  const key = await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: `gemini-client-${n}` });
  return {
    clientKey: key.key,
    connectionId: connection.id,
    modelName: `team-gemini-${n}`,
    upstreamModel,
    embeddingModel: `team-embed-${n}`,
    upstreamEmbeddingModel,
    pricedModel: `team-gemini-priced-${n}`,
    upstreamPricedModel,
  };
}

async function failure(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof OpenAI.APIError)) throw new Error(`expected an APIError, got ${String(err)}`);
  return err;
}

describe.each(FLAVOURS)('the $adapter adapter through /v1', (flavour) => {
  let fake: FakeGemini;
  let product: Product;
  let route: Awaited<ReturnType<typeof routeGemini>>;
  let openai: OpenAI;
  let anthropic: Anthropic;
  const calls = (): RecordedRequest[] => fake.requests.filter((r) => r.path !== '/token');
  const lastCall = (): RecordedRequest => calls().at(-1)!;

  beforeAll(async () => {
    fake = await startFakeGemini({ apiKey: API_KEY, serviceAccountPublicKey: publicKey });
    product = await startProduct();
    route = await routeGemini(product, flavour, fake);
    await waitUntilRoutable(product, route);
    openai = new OpenAI({ apiKey: route.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: route.clientKey, baseURL: product.url, maxRetries: 0 });
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  beforeEach(() => fake.reset());

  it('openai client, whole: the system prompt as systemInstruction, the answer and its usage (cached and thought tokens) in OpenAI’s shape', async () => {
    fake.enqueue({ kind: 'content', text: 'Bonjour.', usage: { promptTokens: 120, cachedTokens: 100, candidatesTokens: 3, thoughtsTokens: 9 } });
    const res = await openai.chat.completions.create({ model: route.modelName, messages: [{ role: 'system', content: 'Answer in French.' }, { role: 'user', content: 'hello' }], temperature: 0.4, max_tokens: 50 });
    expect(res.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Bonjour.' }, finish_reason: 'stop' });
    expect(res.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 12, prompt_tokens_details: { cached_tokens: 100 }, completion_tokens_details: { reasoning_tokens: 9 } });
    const sent = lastCall();
    expect(sent.path).toBe(flavour.path(route.upstreamModel, 'generateContent'));
    expect(sent.body).toEqual({
      systemInstruction: { parts: [{ text: 'Answer in French.' }] },
      contents: [{ role: 'user', parts: [{ text: 'hello' }] }],
      generationConfig: { temperature: 0.4, maxOutputTokens: 50 },
    });
    if (flavour.adapter === 'google-ai-studio') expect(sent.headers['x-goog-api-key']).toBe(API_KEY);
    else expect(sent.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
  });

  it('openai client, streamed: the deltas as they came and the usage in the last chunk', async () => {
    fake.enqueue({ kind: 'content', deltas: ['Bon', 'jour ', 'le monde 🌍'], usage: { promptTokens: 6, candidatesTokens: 4 } });
    const stream = await openai.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'hello' }], stream: true, stream_options: { include_usage: true } });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta?.content;
      if (d) deltas.push(d);
      finish ??= chunk.choices[0]?.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas).toEqual(['Bon', 'jour ', 'le monde 🌍']);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 4 });
    expect(lastCall()).toMatchObject({ path: flavour.path(route.upstreamModel, 'streamGenerateContent'), query: 'alt=sse' });
  });

  it('openai client, tools: function declarations and calling mode go up, functionCall comes back as tool_calls, the result goes up as functionResponse', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } },
    ];
    const signature = 'CiQBcsjafE+zT/0xQ5Z1p8pXHnTOYK5y5DOnTAHTUkpUZ/0gBbEKYQFyyNp8';
    fake.enqueue({ kind: 'content', functionCalls: [{ name: 'get_weather', args: { city: 'Paris' } }], thoughtSignature: signature });
    const first = await openai.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools, tool_choice: 'required' });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    expect(lastCall().body).toMatchObject({
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
    });

    fake.enqueue({ kind: 'content', text: 'It is 21°C in Paris.' });
    const second = await openai.chat.completions.create({
      model: route.modelName,
      tools,
      messages: [{ role: 'user', content: 'Weather in Paris?' }, first.choices[0]!.message, { role: 'tool', tool_call_id: call!.id, content: '{"temperature":21}' }],
    });
    expect(second.choices[0]?.message.content).toBe('It is 21°C in Paris.');
    expect(lastCall().body).toMatchObject({
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
        // The call's thought signature went to the client in the call's id and comes back with the call.
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: signature }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temperature: 21 } } }] },
      ],
    });
  });

  it('openai client, an image: a data URL goes up as inlineData; JSON mode as responseMimeType', async () => {
    fake.enqueue({ kind: 'content', text: '{"colour":"red"}' });
    const res = await openai.chat.completions.create({
      model: route.modelName,
      response_format: { type: 'json_object' },
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What colour?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] }],
    });
    expect(JSON.parse(res.choices[0]!.message.content!)).toEqual({ colour: 'red' });
    expect(lastCall().body).toMatchObject({
      contents: [{ role: 'user', parts: [{ text: 'What colour?' }, { inlineData: { mimeType: 'image/png', data: PNG } }] }],
      generationConfig: { responseMimeType: 'application/json' },
    });
  });

  it('openai client, a 429 RESOURCE_EXHAUSTED: 429 rate_limited with retry-after from RetryInfo', async () => {
    fake.enqueue(fakeGeminiErrors.rateLimited('17s'));
    const err = await failure(openai.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'hi' }] }));
    expect(err.status).toBe(429);
    expect(err.message).toContain('You exceeded your current quota');
    expect(err.headers?.get('retry-after')).toBe('17');
    expect(err.headers?.get('x-should-retry')).toBe('true');
  });

  it('openai client, an error in mid-stream: the text so far, then an error (no [DONE])', async () => {
    fake.enqueue({ kind: 'content', deltas: ['one ', 'two ', 'three ', 'four'], streamError: { afterChunks: 2, code: 500, status: 'INTERNAL', message: 'An internal error has occurred.' } });
    const stream = await openai.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'count' }], stream: true });
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(String((err as Error).message)).toContain('An internal error has occurred.');
    expect(text).toBe('one two ');
  });

  it('anthropic client, whole and streamed, translated from Gemini', async () => {
    fake.enqueue({ kind: 'content', text: 'Hallo.', usage: { promptTokens: 11, candidatesTokens: 2 } });
    const message = await anthropic.messages.create({ model: route.modelName, max_tokens: 64, system: 'Answer in German.', messages: [{ role: 'user', content: 'hello' }] });
    expect(message).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Hallo.' }], stop_reason: 'end_turn' });
    expect(message.usage).toMatchObject({ input_tokens: 11, output_tokens: 2 });
    expect(lastCall().body).toMatchObject({ systemInstruction: { parts: [{ text: 'Answer in German.' }] }, generationConfig: { maxOutputTokens: 64 } });

    fake.enqueue({ kind: 'content', deltas: ['Hal', 'lo', '.'], usage: { promptTokens: 11, candidatesTokens: 3 } });
    const stream = anthropic.messages.stream({ model: route.modelName, max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const streamed = await stream.finalMessage();
    expect(streamed.content).toEqual([expect.objectContaining({ type: 'text', text: 'Hallo.' })]);
    expect(streamed.usage.output_tokens).toBe(3);
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
  });

  it('anthropic client, tool use: a functionCall becomes a tool_use block', async () => {
    fake.enqueue({ kind: 'content', functionCalls: [{ name: 'get_weather', args: { city: 'Bern' } }] });
    const message = await anthropic.messages.create({
      model: route.modelName,
      max_tokens: 64,
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      messages: [{ role: 'user', content: 'weather in Bern?' }],
    });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([expect.objectContaining({ type: 'tool_use', name: 'get_weather', input: { city: 'Bern' } })]);
  });

  it('openai client, embeddings: one vector per input, in order, both encodings', async () => {
    const floats = await openai.embeddings.create({ model: route.embeddingModel, input: ['alpha', 'be'], encoding_format: 'float' });
    expect(floats.data.map((d) => d.embedding)).toEqual([fakeGeminiVector('alpha'), fakeGeminiVector('be')]);
    expect(lastCall().path).toBe(flavour.path(route.upstreamEmbeddingModel, flavour.embeddingMethod));
    // The openai client asks for base64 by default and decodes it: float32 precision.
    const decoded = await openai.embeddings.create({ model: route.embeddingModel, input: 'alpha' });
    expect(decoded.data[0]!.embedding.map((v) => Number(v.toFixed(4)))).toEqual(fakeGeminiVector('alpha'));
    if (flavour.adapter === 'vertex-ai') expect(floats.usage.prompt_tokens).toBe(2);
  });

  it('prices a call from its usageMetadata: uncached, cached and thought tokens each at its own price', async () => {
    const { pricedModel: modelName, upstreamPricedModel: upstreamModel } = route;
    fake.enqueue({ kind: 'content', text: 'priced', usage: { promptTokens: 1000, cachedTokens: 400, candidatesTokens: 100, thoughtsTokens: 50 } });
    await openai.chat.completions.create({ model: modelName, messages: [{ role: 'user', content: 'price me' }] });
    const report = await waitForCostReport(product, (r) => r.groups.some((g) => g.key === upstreamModel && g.unpricedRequests === 0));
    const group = report.groups.find((g) => g.key === upstreamModel)!;
    expect(group).toMatchObject({ requests: 1, inputTokens: 1000, outputTokens: 150, unpricedRequests: 0 });
    // 600 uncached x 0.0000003 + 400 cached x 0.00000003 + 100 text x 0.0000025 + 50 thought x 0.0000025 = 0.000567
    expect(group.cost).toBe('0.000567');
  });

  it('tests the connection with a one-line prompt: ok with the text and the latency', async () => {
    fake.enqueue({ kind: 'content', text: 'Yes, reachable.' });
    const result = await adminCall<{ ok: boolean; text?: string; latencyMs: number; status: string }>(product, 'POST', `/admin/connections/${route.connectionId}/test`, { model: route.upstreamModel });
    expect(result).toEqual({ ok: true, text: 'Yes, reachable.', latencyMs: expect.any(Number), status: 'active' });
    expect(lastCall().path).toBe(flavour.path(route.upstreamModel, 'generateContent'));
  });

  if (flavour.adapter === 'google-ai-studio') {
    it('answers a connection test with a key Google refuses as ok: false, errorKind auth, with Google’s message', async () => {
      const created = await adminCall<{ id: string }>(product, 'POST', '/admin/connections', { name: `studio-bad-key-${Date.now()}`, adapter: 'google-ai-studio', baseUrl: fake.url, apiKey: 'AIza-wrong-key' });
      const result = await adminCall<{ ok: boolean; errorKind?: string; message?: string; status: string }>(product, 'POST', `/admin/connections/${created.id}/test`, { model: route.upstreamModel });
      expect(result).toMatchObject({ ok: false, errorKind: 'auth', message: expect.stringContaining('API key not valid'), status: 'error' });
      expect(JSON.stringify(result)).not.toContain('AIza-wrong-key');
    });
  }

  if (flavour.adapter === 'vertex-ai') {
    it('refuses a key file that is not a service account’s with 400 naming the field, and never shows the stored key', async () => {
      const post = (body: unknown) =>
        fetch(`${product.url}/admin/connections`, { method: 'POST', headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const refused = await post({ name: `vertex-bad-${Date.now()}`, adapter: 'vertex-ai', settings: { project: 'acme-e2e-1', serviceAccountJson: '{"type":"authorized_user","client_id":"x"}' } });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({
        error: { code: 'validation_failed', details: [{ field: 'settings.serviceAccountJson', messages: ['must be a key of type service_account (got "authorized_user")'] }] },
      });
      const listed = await fetch(`${product.url}/admin/connections?limit=200`, { headers: { authorization: `Bearer ${product.adminKey}` } });
      const text = await listed.text();
      expect(text).toContain(route.connectionId);
      expect(text).not.toContain('PRIVATE KEY');
    });

    it('answers a service account whose grant Google refuses as auth: the connection test and a call', async () => {
      const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const revoked = JSON.stringify({ ...JSON.parse(serviceAccountJson(fake, 'revoked@acme-e2e-1.iam.gserviceaccount.com')), private_key: otherKey });
      const created = await adminCall<{ id: string }>(product, 'POST', '/admin/connections', { name: `vertex-revoked-${Date.now()}`, adapter: 'vertex-ai', baseUrl: fake.url, settings: { serviceAccountJson: revoked } });
      const result = await adminCall<{ ok: boolean; errorKind?: string; message?: string; status: string }>(product, 'POST', `/admin/connections/${created.id}/test`, { model: 'gemini-2.5-flash' });
      expect(result).toMatchObject({ ok: false, errorKind: 'auth', message: expect.stringContaining('invalid_grant'), status: 'error' });
      expect(JSON.stringify(result)).not.toContain('PRIVATE KEY');
      await adminCall(product, 'POST', '/admin/provider-models', { name: 'team-gemini-revoked', connectionId: created.id, upstreamModel: 'gemini-revoked' });
      await waitUntilRoutable(product, { ...route, modelName: 'team-gemini-revoked' });
      const err = await failure(openai.chat.completions.create({ model: 'team-gemini-revoked', messages: [{ role: 'user', content: 'hi' }] }));
      expect(err.message).toContain('OAuth token was refused');
      expect(err.status).not.toBe(401);
      expect(err.headers?.get('x-should-retry')).toBe('false');
      expect(calls().filter((r) => r.path.includes('gemini-revoked'))).toEqual([]);
    });

    it('fetched one OAuth token for all of these calls', () => {
      expect(fake.tokenFetches).toBe(1);
    });

    it('refreshes a short-lived token before it expires, without failing a call', async () => {
      const before = fake.tokenFetches;
      // 6 s: refreshed past 3 s, so the first five calls fit before that even on a busy machine.
      fake.setTokenLifetime(6);
      const shortLived = await adminCall<{ id: string }>(product, 'POST', '/admin/connections', {
        name: `vertex-short-${Date.now()}`,
        adapter: 'vertex-ai',
        baseUrl: fake.url,
        settings: { location: 'europe-west4', serviceAccountJson: serviceAccountJson(fake, 'short@acme-e2e-1.iam.gserviceaccount.com') },
      });
      await adminCall(product, 'POST', '/admin/provider-models', { name: 'team-gemini-short', connectionId: shortLived.id, upstreamModel: 'gemini-short' });
      await waitUntilRoutable(product, { ...route, modelName: 'team-gemini-short' });
      const ask = () => openai.chat.completions.create({ model: 'team-gemini-short', messages: [{ role: 'user', content: 'hi' }] });
      await ask();
      const fetchedBy = Date.now(); // the token came during the first call
      for (let i = 0; i < 4; i++) await ask();
      expect(fake.tokenFetches).toBe(before + 1);
      // Past half the token's life: the next call is served with the old token while a new one is fetched.
      await new Promise((r) => setTimeout(r, fetchedBy + 3300 - Date.now()));
      await ask();
      // The new token is fetched in the background: wait for that fetch, then no more.
      for (const deadline = Date.now() + 5000; fake.tokenFetches < before + 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 25));
      expect(fake.tokenFetches).toBe(before + 2);
      for (let i = 0; i < 3; i++) await ask();
      expect(fake.tokenFetches).toBe(before + 2);
      fake.setTokenLifetime(3600);
    });
  }
});
