import Anthropic from '@anthropic-ai/sdk';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { azureFakeErrors, startFakeAzureOpenAI, type FakeAzureOpenAI } from '../support/fake-upstream/index.js';
import { adminCall, waitForModelCosts } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

type ApiError = InstanceType<typeof OpenAI.APIError>;

const weatherTool: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};
// A 1x1 PNG.
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

/** A Microsoft Entra ID token endpoint: client credentials in, a bearer token out; counts its calls. */
async function startFakeEntra(accessToken: string): Promise<{ url: string; requests: URLSearchParams[]; paths: string[]; close(): Promise<void> }> {
  const requests: URLSearchParams[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      paths.push(req.url ?? '');
      const form = new URLSearchParams(body);
      requests.push(form);
      if (form.get('client_secret') !== 'entra-client-secret-e2e') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_client', error_description: "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID." }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    paths,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * An azure-openai connection through the product, driven with the official `openai` and
 * @anthropic-ai/sdk clients against a fake Azure OpenAI resource (whose shapes the AzureOpenAI client
 * accepted first, fake-azure-openai.spec.ts): the deployments URL form with its api-version and
 * api-key, Azure's filter results and errors, an Entra ID service principal, and a model whose
 * upstream does not stream served to stream requests.
 */
describe('/v1 through an azure-openai connection', () => {
  const KEY = 'azure-resource-key-e2e-5f1c0b7a';
  const ENTRA_TOKEN = 'entra-access-token-e2e-1';
  let fake: FakeAzureOpenAI;
  let entra: Awaited<ReturnType<typeof startFakeEntra>>;
  let product: Product;
  let clientKey: string;
  let openai: OpenAI;
  let anthropic: Anthropic;
  const connectionIds: Record<'byKey' | 'wrongSecret', string> = { byKey: '', wrongSecret: '' };

  const createConnection = (body: Record<string, unknown>) => adminCall<{ id: string; settings: Record<string, unknown>; secretsMasked: Record<string, string> }>(product, 'POST', '/admin/connections', body);
  const createModel = (body: Record<string, unknown>) => adminCall<{ id: string }>(product, 'POST', '/admin/provider-models', body);

  /** Waits until the key lists every model (change events reach the gateway within a second). */
  async function routable(...names: string[]): Promise<void> {
    const deadline = Date.now() + 10_000; // set-up wait: change events take a second, longer on a busy machine
    for (;;) {
      const listed = (await openai.models.list()).data.map((m) => m.id);
      if (names.every((n) => listed.includes(n))) return;
      if (Date.now() > deadline) throw new Error(`not routable: ${names.join(', ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  beforeAll(async () => {
    fake = await startFakeAzureOpenAI({ apiKey: KEY });
    entra = await startFakeEntra(ENTRA_TOKEN);
    product = await startProduct();
    clientKey = (await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: 'azure-client' })).key;
    openai = new OpenAI({ apiKey: clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: clientKey, baseURL: product.url, maxRetries: 0 });

    const byKey = await createConnection({
      name: 'azure-east',
      adapter: 'azure-openai',
      baseUrl: fake.url,
      apiKey: KEY,
      settings: { apiVersion: '2024-10-21', deployments: 'gpt-4o=prod-4o, text-embedding-3-small=emb-small' },
    });
    expect(byKey).toMatchObject({ settings: { apiStyle: 'deployments', apiVersion: '2024-10-21' }, secretsMasked: { apiKey: '••••0b7a' } });
    connectionIds.byKey = byKey.id;
    await createModel({ name: 'azure-gpt', connectionId: byKey.id, upstreamModel: 'gpt-4o', multimodal: true });
    await createModel({ name: 'azure-emb', connectionId: byKey.id, upstreamModel: 'text-embedding-3-small', kind: 'embedding' });
    await createModel({ name: 'azure-whole', connectionId: byKey.id, upstreamModel: 'gpt-4o', upstreamStreams: false });
    await createModel({ name: 'azure-instruct', connectionId: byKey.id, upstreamModel: 'gpt-35-turbo-instruct', kind: 'completion' });

    const byPrincipal = await createConnection({
      name: 'azure-entra',
      adapter: 'azure-openai',
      baseUrl: fake.url,
      settings: { apiStyle: 'v1', tenantId: 'tenant-e2e', clientId: 'client-e2e', clientSecret: 'entra-client-secret-e2e', authorityUrl: entra.url },
    });
    expect(JSON.stringify(byPrincipal)).not.toContain('entra-client-secret-e2e');
    await createModel({ name: 'azure-entra-gpt', connectionId: byPrincipal.id, upstreamModel: 'gpt-4o-mini' });
    const wrongSecret = await createConnection({
      name: 'azure-entra-wrong',
      adapter: 'azure-openai',
      baseUrl: fake.url,
      settings: { apiStyle: 'v1', tenantId: 'tenant-e2e', clientId: 'client-e2e', clientSecret: 'not-the-secret-e2e', authorityUrl: entra.url },
    });
    connectionIds.wrongSecret = wrongSecret.id;
    await createModel({ name: 'azure-entra-refused', connectionId: wrongSecret.id, upstreamModel: 'gpt-4o-mini' });
    await routable('azure-gpt', 'azure-emb', 'azure-whole', 'azure-instruct', 'azure-entra-gpt', 'azure-entra-refused');
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
    await entra?.close();
  }, 60_000);

  beforeEach(() => {
    fake.reset();
    fake.expectBearerToken(undefined);
  });

  describe('connection settings', () => {
    it.each([
      ['no api-version for the deployments form', { apiKey: 'k' }, 'settings.apiVersion', 'is required with apiStyle deployments'],
      ['a malformed deployments map', { apiKey: 'k', settings: { apiVersion: '2024-10-21', deployments: 'gpt-4o' } }, 'settings.deployments', 'model=deployment'],
      ['neither a key nor a service principal', { settings: { apiVersion: '2024-10-21' } }, 'apiKey', 'is required unless an Entra ID service principal'],
      ['half a service principal', { settings: { apiVersion: '2024-10-21', tenantId: 't', clientSecret: 's' } }, 'settings.clientId', 'is required for an Entra ID service principal'],
    ])('refuses %s with 400 naming the field', async (_what, body, field, message) => {
      const res = await fetch(`${product.url}/admin/connections`, {
        method: 'POST',
        headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `azure-refused-${field}`, adapter: 'azure-openai', baseUrl: fake.url, ...body }),
      });
      expect(res.status).toBe(400);
      const error = ((await res.json()) as { error: { code: string; details: unknown[] } }).error;
      expect(error.code).toBe('validation_failed');
      expect(error.details).toEqual([{ field, messages: [expect.stringContaining(message)] }]);
    });
  });

  describe('with the openai client', () => {
    it('answers a chat on the deployment URL with the api-key header, and prices it from Azure\'s usage', async () => {
      fake.enqueue({ kind: 'completion', content: 'Bonjour from Azure', model: 'gpt-4o-2024-11-20', usage: { promptTokens: 1000, completionTokens: 200, cachedTokens: 400 } });
      await adminCall(product, 'POST', '/admin/model-definitions', {
        name: 'azure-gpt-4o-2024-11-20',
        matchPattern: '^gpt-4o-2024-11-20$',
        prices: { input: '0.0000025', cache_read: '0.00000125', output: '0.00001' },
        effectiveFrom: '2024-01-01T00:00:00Z',
      });
      const completion = await openai.chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'hi' }] });
      expect(completion.choices[0]!.message.content).toBe('Bonjour from Azure');
      const sent = fake.requests[0]!;
      expect({ path: sent.path, query: sent.query }).toEqual({ path: '/openai/deployments/prod-4o/chat/completions', query: 'api-version=2024-10-21' });
      expect(sent.headers['api-key']).toBe(KEY);
      expect(sent.headers.authorization).toBeUndefined();
      // 600 uncached x 0.0000025 + 400 cached x 0.00000125 + 200 x 0.00001 = 0.0015 + 0.0005 + 0.002
      const costs = await waitForModelCosts(product, 'gpt-4o-2024-11-20', { priced: true });
      expect(costs).toMatchObject({ requests: 1, inputTokens: 1000, outputTokens: 200, unpricedRequests: 0, cost: '0.004' });
    });

    it("streams through Azure's prompt-filter chunk, with the usage the client asked for", async () => {
      fake.enqueue({ kind: 'completion', deltas: ['Hel', 'lo', '!'], usage: { promptTokens: 9, completionTokens: 3 } });
      const stream = await openai.chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined | null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe('Hello!');
      expect(usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 3 });
      expect(fake.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    });

    it('passes tools and an image through, and answers the tool call', async () => {
      fake.enqueue({ kind: 'completion', toolCalls: [{ id: 'call_w', name: 'get_weather', arguments: '{"city":"Oslo"}' }] });
      const completion = await openai.chat.completions.create({
        model: 'azure-gpt',
        tools: [weatherTool],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Where is this, and what is its weather?' }, { type: 'image_url', image_url: { url: PIXEL } }] }],
      });
      expect(completion.choices[0]!.message.tool_calls).toEqual([{ id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }]);
      expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
      const body = fake.requests[0]!.body as { tools: unknown[]; messages: { content: { type: string }[] }[] };
      expect(body.tools).toEqual([weatherTool]);
      expect(body.messages[0]!.content.map((c) => c.type)).toEqual(['text', 'image_url']);
    });

    it("answers Azure's 429 as a rate limit with its retry-after", async () => {
      fake.enqueue(azureFakeErrors.rateLimited(7));
      const err = (await openai.chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err.headers?.get('retry-after')).toBe('7');
      expect(err.headers?.get('retry-after-ms')).toBe('7000');
      expect(err.headers?.get('x-should-retry')).toBe('true');
      expect(err.message).toContain('exceeded token rate limit');
    });

    it('answers a content-filter refusal as content_filter, naming the filtered category', async () => {
      fake.enqueue(azureFakeErrors.contentFilter('violence', 'high'));
      const err = (await openai.chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err.code).toBe('content_filter');
      expect(err.message).toContain('violence (high)');
    });

    it('ends a stream that fails midway with an error the client throws', async () => {
      fake.enqueue({ kind: 'completion', deltas: ['a', 'b', 'c', 'd'], streamError: { afterChunks: 3, message: 'The server had an error while processing your request.' } });
      const stream = await openai.chat.completions.create({ model: 'azure-gpt', messages: [{ role: 'user', content: 'hi' }], stream: true });
      let text = '';
      const failed = (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      })();
      await expect(failed).rejects.toThrow('The server had an error');
      expect(text).toBe('a');
    });

    it('answers completions, whole and streamed, on the deployment of their model', async () => {
      fake.enqueue({ kind: 'completion', content: 'once upon a time' }, { kind: 'completion', deltas: ['there ', 'was'], usage: { promptTokens: 4, completionTokens: 2 } });
      const whole = await openai.completions.create({ model: 'azure-instruct', prompt: 'Tell me a story' });
      expect(whole.choices[0]!.text).toBe('once upon a time');
      const stream = await openai.completions.create({ model: 'azure-instruct', prompt: 'Go on', stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
      expect(text).toBe('there was');
      expect(fake.requests.map((r) => [r.path, r.query])).toEqual(Array(2).fill(['/openai/deployments/gpt-35-turbo-instruct/completions', 'api-version=2024-10-21']));
    });

    it('answers embeddings from the embedding deployment, base64 as the client asks', async () => {
      const embedding = await openai.embeddings.create({ model: 'azure-emb', input: ['one', 'two'] });
      expect(embedding.data.map((d) => d.embedding.length)).toEqual([8, 8]);
      expect(fake.requests[0]!.path).toBe('/openai/deployments/emb-small/embeddings');
      expect(fake.requests[0]!.body).toMatchObject({ encoding_format: 'base64' });
    });

    it('calls with an Entra ID token fetched once for many calls, on the v1 form with the deployment as the model', async () => {
      fake.expectBearerToken(ENTRA_TOKEN);
      for (let i = 0; i < 3; i++) await openai.chat.completions.create({ model: 'azure-entra-gpt', messages: [{ role: 'user', content: `call ${i}` }] });
      expect(entra.requests).toHaveLength(1);
      expect(entra.paths).toEqual(['/tenant-e2e/oauth2/v2.0/token']);
      expect(Object.fromEntries(entra.requests[0]!)).toEqual({
        grant_type: 'client_credentials',
        client_id: 'client-e2e',
        client_secret: 'entra-client-secret-e2e',
        scope: 'https://cognitiveservices.azure.com/.default',
      });
      expect(fake.requests.map((r) => [r.path, r.query, r.headers.authorization, (r.body as { model: string }).model])).toEqual(
        Array(3).fill(['/openai/v1/chat/completions', '', `Bearer ${ENTRA_TOKEN}`, 'gpt-4o-mini']),
      );
      expect(product.output()).not.toContain('entra-client-secret-e2e');
    });

    it("answers a service principal the authority refuses as the connection's auth failure (502, not the caller's 401), without calling Azure", async () => {
      const err = (await openai.chat.completions.create({ model: 'azure-entra-refused', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(err.status).toBe(502);
      expect(err.code).toBe('upstream_auth_failed');
      expect(err.message).toContain('AADSTS7000215');
      expect(err.message).not.toContain('not-the-secret-e2e');
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('with the anthropic client', () => {
    it('answers a message translated from Azure\'s chat, whole and streamed', async () => {
      fake.enqueue({ kind: 'completion', content: 'Hi from Azure', usage: { promptTokens: 5, completionTokens: 3 } });
      const message = await anthropic.messages.create({ model: 'azure-gpt', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
      expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Hi from Azure' })]);
      expect(message.usage).toMatchObject({ input_tokens: 5, output_tokens: 3 });
      expect(fake.requests[0]!.path).toBe('/openai/deployments/prod-4o/chat/completions');

      fake.enqueue({ kind: 'completion', deltas: ['Strea', 'med'], usage: { promptTokens: 6, completionTokens: 2 } });
      const stream = anthropic.messages.stream({ model: 'azure-gpt', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
      const final = await stream.finalMessage();
      expect(final.content[0]).toMatchObject({ type: 'text', text: 'Streamed' });
      expect(final.usage).toMatchObject({ output_tokens: 2 });
    });

    it('answers a tool call and a 429 in Anthropic\'s shapes', async () => {
      fake.enqueue({ kind: 'completion', toolCalls: [{ id: 'call_t', name: 'get_weather', arguments: '{"city":"Rome"}' }] });
      const message = await anthropic.messages.create({
        model: 'azure-gpt',
        max_tokens: 100,
        tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
        messages: [{ role: 'user', content: 'weather in Rome?' }],
      });
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content).toEqual([expect.objectContaining({ type: 'tool_use', id: 'call_t', name: 'get_weather', input: { city: 'Rome' } })]);

      fake.enqueue(azureFakeErrors.rateLimited(3));
      const err = await anthropic.messages.create({ model: 'azure-gpt', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
      expect((err as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBe('3');
    });
  });

  describe('connection test', () => {
    type TestResult = { ok: boolean; text?: string; errorKind?: string; message?: string; latencyMs: number; status: string };

    it("answers ok with the answer's text through the model's deployment, and errorKind auth for a refused service principal", async () => {
      fake.enqueue({ kind: 'completion', content: 'Yes, reachable.' });
      const ok = await adminCall<TestResult>(product, 'POST', `/admin/connections/${connectionIds.byKey}/test`, { model: 'gpt-4o' });
      expect(ok).toEqual({ ok: true, text: 'Yes, reachable.', latencyMs: expect.any(Number), status: 'active' });
      expect(fake.requests[0]!.path).toBe('/openai/deployments/prod-4o/chat/completions');
      const refused = await adminCall<TestResult>(product, 'POST', `/admin/connections/${connectionIds.wrongSecret}/test`, { model: 'gpt-4o-mini' });
      expect(refused).toMatchObject({ ok: false, errorKind: 'auth', message: expect.stringContaining('AADSTS7000215'), status: 'error' });
      expect(JSON.stringify(refused)).not.toContain('not-the-secret-e2e');
    });
  });

  describe('a model whose upstream does not stream', () => {
    it('asks the upstream for a whole answer and streams it to an openai client as chunks and [DONE], usage metered', async () => {
      fake.enqueue({ kind: 'completion', content: 'Whole answer, streamed by the gateway', model: 'gpt-4o-whole-2024', usage: { promptTokens: 21, completionTokens: 7 } });
      const res = await fetch(`${product.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'azure-whole', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } }),
      });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const events = (await res.text()).split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice('data: '.length));
      expect(events.at(-1)).toBe('[DONE]');
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as OpenAI.Chat.Completions.ChatCompletionChunk);
      expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Whole answer, streamed by the gateway');
      expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]!.finish_reason).toBe('stop');
      expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 7 });
      // The upstream was asked for JSON: no stream, no stream_options (refused without a stream).
      const sent = fake.requests[0]!.body as Record<string, unknown>;
      expect(sent.stream).toBe(false);
      expect(sent).not.toHaveProperty('stream_options');
      expect(await waitForModelCosts(product, 'gpt-4o-whole-2024')).toMatchObject({ requests: 1, inputTokens: 21, outputTokens: 7 });
    });

    it('streams tool calls to the openai client, which assembles them', async () => {
      fake.enqueue({ kind: 'completion', toolCalls: [{ id: 'call_s', name: 'get_weather', arguments: '{"city":"Lima"}' }] });
      const stream = openai.chat.completions.stream({ model: 'azure-whole', tools: [weatherTool], messages: [{ role: 'user', content: 'weather?' }] });
      const final = await stream.finalChatCompletion();
      expect(final.choices[0]!.message.tool_calls).toEqual([{ id: 'call_s', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lima"}' } }]);
      expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    });

    it('streams the whole answer to an anthropic client as message events', async () => {
      fake.enqueue({ kind: 'completion', content: 'Anthropic events from a whole answer', usage: { promptTokens: 12, completionTokens: 6 } });
      const stream = anthropic.messages.stream({ model: 'azure-whole', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
      const types: string[] = [];
      stream.on('streamEvent', (e) => types.push(e.type));
      const final = await stream.finalMessage();
      expect(final.content[0]).toMatchObject({ type: 'text', text: 'Anthropic events from a whole answer' });
      expect(final.usage).toMatchObject({ input_tokens: 12, output_tokens: 6 });
      expect(final.stop_reason).toBe('end_turn');
      expect(types[0]).toBe('message_start');
      expect(types).toContain('content_block_delta');
      expect(types.at(-1)).toBe('message_stop');
      // Translated from Anthropic's format: a request without a stream leaves `stream` out.
      const sent = fake.requests[0]!.body as Record<string, unknown>;
      expect(sent.stream ?? false).toBe(false);
      expect(sent).not.toHaveProperty('stream_options');
    });

    it("answers the upstream's error whole, before any stream starts", async () => {
      fake.enqueue(azureFakeErrors.rateLimited(2));
      const err = await openai.chat.completions.create({ model: 'azure-whole', messages: [{ role: 'user', content: 'hi' }], stream: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    });
  });
});
