import Anthropic from '@anthropic-ai/sdk';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import OpenAI from 'openai';
import { adminCall } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';
import { startFakeAnthropic, startFakeOpenAI, type FakeAnthropic, type FakeOpenAI } from '../support/fake-upstream/index.js';

interface ModelView {
  id: string;
  name: string;
  status: string;
  targets: { connectionId: string }[];
  defaultParameters: Record<string, unknown>;
}

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** The o200k_base count of the parts, by js-tiktoken itself (the gateway counts with its own BPE counter). */
const tiktoken = new Tiktoken(o200k);
const tokensOf = (...parts: string[]): number => parts.reduce((n, p) => n + tiktoken.encode(p).length, 0);
const cl100kTiktoken = new Tiktoken(cl100k);
/** The approximation for models without a public tokenizer (Claude's): a token per four UTF-8 bytes, per part. */
const approximateOf = (...parts: string[]): number => parts.reduce((n, p) => n + Math.ceil(Buffer.byteLength(p) / 4), 0);

/**
 * Issue 14 items 1-3 through the running product: provider models with targets, defaults, limits
 * and status; the order a model name is resolved in (exact name, slug/model, rewrite rules, URI
 * parameters, else 404); input and output limits in both client formats; PATCH reaching the
 * gateway within a second. Driven with the official openai and @anthropic-ai/sdk clients.
 */
describe('provider models and model addressing', () => {
  let openAIFake: FakeOpenAI;
  let anthropicFake: FakeAnthropic;
  let product: Product;
  let openai: OpenAI;
  let anthropic: Anthropic;
  let clientKey: string;
  const models: Record<string, ModelView> = {};

  const createModel = async (body: Record<string, unknown>): Promise<ModelView> => {
    const made = await adminCall<ModelView>(product, 'POST', '/admin/provider-models', body);
    models[made.name] = made;
    return made;
  };

  /** Polls a client call until `done` holds (change events arrive within a second). */
  const eventually = async <T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (done(value) || Date.now() > deadline) return value;
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const chatError = (model: string, extra: Record<string, unknown> = {}): Promise<unknown> =>
    openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming).catch((e: unknown) => e);

  beforeAll(async () => {
    openAIFake = await startFakeOpenAI();
    anthropicFake = await startFakeAnthropic();
    // Distributed mode: two gateway replicas, so PATCH is seen reaching both (embedded mode has one gateway).
    product = await startProduct({ gatewayReplicas: 2 });
    const acme = await adminCall<{ id: string }>(product, 'POST', '/admin/connections', {
      name: 'acme',
      adapter: 'openai-compatible',
      baseUrl: openAIFake.url,
      apiKey: 'sk-upstream-acme-0000',
    });
    const claude = await adminCall<{ id: string }>(product, 'POST', '/admin/connections', {
      name: 'claude-direct',
      adapter: 'anthropic',
      baseUrl: anthropicFake.url,
      apiKey: 'sk-ant-upstream-0000',
    });
    await createModel({
      name: 'team-gpt',
      displayName: 'Team GPT',
      targets: [{ connectionId: acme.id, upstreamModel: 'gpt-4o-mini', weight: 2 }],
      contextWindow: 8000,
      maxInputTokens: 50,
      maxOutputTokens: 300,
      defaultParameters: { temperature: 0.3, seed: 11, stop: ['END'], max_tokens: 200 },
    });
    await createModel({ name: 'capped-gpt', connectionId: acme.id, upstreamModel: 'gpt-4o-capped', maxOutputTokens: 300 });
    const openaiDirect = await adminCall<{ id: string }>(product, 'POST', '/admin/connections', {
      name: 'openai-direct',
      adapter: 'openai',
      baseUrl: openAIFake.url,
      apiKey: 'sk-upstream-openai-0000',
    });
    await createModel({ name: 'capped-o3', connectionId: openaiDirect.id, upstreamModel: 'o3-mini', maxOutputTokens: 400 });
    await createModel({ name: 'team-embed', kind: 'embedding', connectionId: acme.id, upstreamModel: 'text-embedding-3-small' });
    await createModel({ name: 'retired-gpt', status: 'inactive', connectionId: acme.id, upstreamModel: 'gpt-3.5-turbo' });
    await createModel({ name: 'patchable', connectionId: acme.id, upstreamModel: 'gpt-4o-patchable', defaultParameters: { temperature: 0.1 } });
    await createModel({
      name: 'team-claude',
      connectionId: claude.id,
      upstreamModel: 'claude-sonnet-4-5-20250929',
      maxInputTokens: 40,
      defaultParameters: { temperature: 0.4, top_k: 5, stop: 'END' },
    });
    await adminCall(product, 'POST', '/admin/model-rewrite-rules', { pattern: 'gpt-4o-mini(-\\d{4}-\\d{2}-\\d{2})?', target: 'team-gpt', position: 1 });
    await adminCall(product, 'POST', '/admin/model-rewrite-rules', { pattern: 'legacy-(.*)', target: 'nowhere-$1', position: 2 });
    clientKey = (await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: 'addressing-client' })).key;
    openai = new OpenAI({ apiKey: clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: clientKey, baseURL: product.url, maxRetries: 0 });
    // Every model, and the rewrite rules, are live once the last-created rule resolves.
    await eventually(
      () => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'warm up' }] }).then(() => true, () => false),
      (ok) => ok,
      10_000,
    );
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await openAIFake?.close();
    await anthropicFake?.close();
  }, 60_000);

  beforeEach(() => {
    openAIFake.reset();
    anthropicFake.reset();
  });

  describe('resolution order', () => {
    it('serves an exact provider-model name through its target, with the defaults filling what the request leaves out', async () => {
      const answer = await openai.chat.completions.create({ model: 'team-gpt', messages: [{ role: 'user', content: 'hi' }], temperature: 0.9 });
      expect(answer.choices).toHaveLength(1);
      expect(openAIFake.requests).toHaveLength(1);
      expect(openAIFake.requests[0]!.body).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.9, seed: 11, stop: ['END'], max_tokens: 200 });
    });

    it('reaches a model the registry does not list through slug/model, passed upstream unvalidated', async () => {
      await openai.chat.completions.create({ model: 'acme/some-unlisted-model-v9', messages: [{ role: 'user', content: 'hi' }] });
      expect(openAIFake.requests[0]!.body).toMatchObject({ model: 'some-unlisted-model-v9' });
      expect(openAIFake.requests[0]!.body).not.toHaveProperty('temperature');
    });

    it('rewrites a name by the first matching rule and serves its target', async () => {
      await openai.chat.completions.create({ model: 'gpt-4o-mini-2024-07-18', messages: [{ role: 'user', content: 'hi' }] });
      expect(openAIFake.requests[0]!.body).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.3 });
    });

    it('applies URI model parameters over the request and the defaults', async () => {
      await openai.chat.completions.create({ model: 'team-gpt:temperature=0.2,top_p=0.9', messages: [{ role: 'user', content: 'hi' }], temperature: 1.5 });
      expect(openAIFake.requests[0]!.body).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.2, top_p: 0.9, seed: 11 });
      await openai.chat.completions.create({ model: 'acme/llama3:8b:seed=7', messages: [{ role: 'user', content: 'hi' }] });
      expect(openAIFake.requests[1]!.body).toMatchObject({ model: 'llama3:8b', seed: 7 });
    });

    it('refuses an unknown or invalid URI parameter with 400 naming it, without calling the upstream', async () => {
      const unknown = await chatError('team-gpt:temprature=0.2');
      expect(unknown).toMatchObject({ status: 400, code: 'invalid_model_parameter', param: 'model', message: expect.stringContaining('`temprature` is not a known model parameter') });
      const invalid = await chatError('team-gpt:top_p=7');
      expect(invalid).toMatchObject({ status: 400, code: 'invalid_model_parameter', message: expect.stringContaining('top_p must be between 0 and 1') });
      expect(openAIFake.requests).toHaveLength(0);
    });

    it.each([
      ['an unknown name', 'no-such-model'],
      ['an inactive model', 'retired-gpt'],
      ['an unknown connection slug', 'nobody/gpt-4o'],
      ['a rewrite to a name that is no model', 'legacy-davinci'],
      ['parameters after an unknown name', 'no-such-model:temperature=0.2'],
      ['a suffix that is no parameter list', 'team-gpt:fast'],
    ])('answers 404 model_not_found naming GET /v1/models for %s', async (_what, model) => {
      const err = await chatError(model);
      expect(err).toMatchObject({ status: 404, code: 'model_not_found', param: 'model', message: expect.stringContaining('GET /v1/models') });
      expect(openAIFake.requests).toHaveLength(0);
    });

    it("answers an unknown model in Anthropic's format on /v1/messages", async () => {
      const err = await anthropic.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 404, error: { type: 'error', error: { type: 'not_found_error', message: expect.stringContaining('GET /v1/models') } } });
    });

    it('lists the active models the key may call on GET /v1/models, not the inactive one nor slug/model forms', async () => {
      const listed = (await openai.models.list()).data.map((m) => m.id).sort();
      expect(listed).toEqual(['capped-gpt', 'capped-o3', 'patchable', 'team-claude', 'team-embed', 'team-gpt']);
    });
  });

  describe('kinds', () => {
    it('refuses a chat model on /v1/embeddings and an embedding model on /v1/chat/completions with 400 wrong_model_kind', async () => {
      const onEmbeddings = await openai.embeddings.create({ model: 'team-gpt', input: 'x' }).catch((e: unknown) => e);
      expect(onEmbeddings).toMatchObject({ status: 400, code: 'wrong_model_kind', param: 'model', message: expect.stringContaining('POST /v1/chat/completions') });
      const onChat = await chatError('team-embed');
      expect(onChat).toMatchObject({ status: 400, code: 'wrong_model_kind', message: expect.stringContaining('POST /v1/embeddings') });
      const onCountTokens = await anthropic.messages.countTokens({ model: 'team-embed', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(onCountTokens).toMatchObject({ status: 400, error: { error: { type: 'invalid_request_error', message: expect.stringContaining('embedding model') } } });
      const embedded = await openai.embeddings.create({ model: 'team-embed', input: 'x' });
      expect(embedded.data).toHaveLength(1);
      expect(openAIFake.requests).toHaveLength(1);
    });
  });

  describe('limits', () => {
    it('fills an absent output bound with maxOutputTokens, and refuses a larger one naming the field and the cap', async () => {
      await openai.chat.completions.create({ model: 'capped-gpt', messages: [{ role: 'user', content: 'hi' }] });
      expect(openAIFake.requests[0]!.body).toMatchObject({ max_tokens: 300 });
      const err = await chatError('capped-gpt', { max_completion_tokens: 301 });
      expect(err).toMatchObject({ status: 400, code: 'max_tokens_exceeded', param: 'max_completion_tokens', message: expect.stringContaining('(300)') });
      expect(openAIFake.requests).toHaveLength(1);
      // OpenAI's own API gets the field its reasoning models accept.
      await openai.chat.completions.create({ model: 'capped-o3', messages: [{ role: 'user', content: 'hi' }] });
      expect(openAIFake.requests[1]!.body).toMatchObject({ model: 'o3-mini', max_completion_tokens: 400 });
      expect(openAIFake.requests[1]!.body).not.toHaveProperty('max_tokens');
    });

    it('refuses an input over maxInputTokens with input_limit_exceeded and its exact token count (OpenAI format)', async () => {
      const prompt = 'The quick brown fox jumps over the lazy dog. '.repeat(8);
      const err = (await chatError('team-gpt', { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: prompt }] })) as { error: ErrorBody['error'] };
      expect(err).toMatchObject({ status: 400, code: 'input_limit_exceeded', param: 'messages' });
      const measured = tokensOf('Be brief.', prompt);
      expect(measured).toBeGreaterThan(50);
      // gpt-4o-mini's definition (the built-in catalogue's) counts with o200k_base.
      expect(err.error.details).toEqual({ model: 'team-gpt', limit: 50, measured, tokenizer: 'o200k_base' });
      expect(openAIFake.requests).toHaveLength(0);
    });

    it("refuses an input over maxInputTokens in Anthropic's format, counting the system prompt, with code and details", async () => {
      const system = 'You answer in French. '.repeat(5);
      const prompt = 'Translate: the weather is nice today and tomorrow. '.repeat(2);
      const res = await fetch(`${product.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': clientKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: 'team-claude', max_tokens: 10, system, messages: [{ role: 'user', content: prompt }] }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { type: string; error: { type: string; code: string; details: unknown } };
      expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', code: 'input_limit_exceeded' } });
      // Claude has no public tokenizer: its catalogue definition says `approximate`, and the message says it is an estimate.
      expect(body.error.details).toEqual({ model: 'team-claude', limit: 40, measured: approximateOf(prompt, system), tokenizer: 'approximate' });
      expect(anthropicFake.requests).toHaveLength(0);
    });

    it("counts with the tokenizer of the definition that prices the model: a User definition's, once it exists", async () => {
      await createModel({ name: 'in-house', connectionId: models['team-gpt']!.targets[0]!.connectionId, upstreamModel: 'davinci-in-house', maxInputTokens: 30 });
      const prompt = 'नमस्ते दुनिया, यह एक लंबा संदेश है। '.repeat(3);
      const details = async () => ((await chatError('in-house', { messages: [{ role: 'user', content: prompt }] })) as { error?: ErrorBody['error'] }).error?.details as { tokenizer?: string } | undefined;
      // No definition matches the model yet: o200k_base, the default.
      expect(await eventually(details, (d) => d !== undefined)).toEqual({ model: 'in-house', limit: 30, measured: tokensOf(prompt), tokenizer: 'o200k_base' });
      await adminCall(product, 'POST', '/admin/model-definitions', {
        name: 'in-house-davinci',
        matchPattern: '^davinci-in-house$',
        tokenizer: 'cl100k_base',
        prices: { input: '0.000001', output: '0.000002' },
        effectiveFrom: '2024-01-01T00:00:00Z',
      });
      const counted = await eventually(details, (d) => d?.tokenizer === 'cl100k_base');
      expect(counted).toEqual({ model: 'in-house', limit: 30, measured: cl100kTiktoken.encode(prompt).length, tokenizer: 'cl100k_base' });
      expect(tokensOf(prompt)).not.toBe(cl100kTiktoken.encode(prompt).length); // the two counts differ: the test tells them apart
      expect(openAIFake.requests).toHaveLength(0);
    });

    it("serves a short prompt to an Anthropic upstream with the model's defaults in Anthropic's fields", async () => {
      const answer = await anthropic.messages.create({ model: 'team-claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      expect(answer.type).toBe('message');
      expect(anthropicFake.requests[0]!.body).toMatchObject({ model: 'claude-sonnet-4-5-20250929', temperature: 0.4, top_k: 5, stop_sequences: ['END'], max_tokens: 10 });
    });
  });

  describe('PATCH', () => {
    it('changes a model on every gateway replica within a second: new defaults, then inactive, then active again', async () => {
      const id = models.patchable!.id;
      const replicas = product.gatewayUrls.map((url) => new OpenAI({ apiKey: clientKey, baseURL: `${url}/v1`, maxRetries: 0 }));
      expect(replicas).toHaveLength(product.mode === 'distributed' ? 2 : 1);
      /** The temperature each replica sends upstream for `patchable` now. */
      const temperatures = async (): Promise<unknown[]> => {
        const seen: unknown[] = [];
        for (const client of replicas) {
          await client.chat.completions.create({ model: 'patchable', messages: [{ role: 'user', content: 'hi' }] });
          seen.push((openAIFake.requests.at(-1)!.body as { temperature?: number }).temperature);
        }
        return seen;
      };
      expect(await temperatures()).toEqual(replicas.map(() => 0.1));

      await adminCall(product, 'PATCH', `/admin/provider-models/${id}`, { defaultParameters: { temperature: 0.7 } });
      let started = Date.now();
      expect(await eventually(temperatures, (t) => t.every((x) => x === 0.7))).toEqual(replicas.map(() => 0.7));
      expect(Date.now() - started).toBeLessThan(2000); // a second, and room for the calls themselves on a busy machine

      await adminCall(product, 'PATCH', `/admin/provider-models/${id}`, { status: 'inactive' });
      started = Date.now();
      const statuses = () => Promise.all(replicas.map((client) => client.chat.completions.create({ model: 'patchable', messages: [{ role: 'user', content: 'hi' }] }).then(() => 200, (e: { status?: number }) => e.status)));
      expect(await eventually(statuses, (s) => s.every((x) => x === 404))).toEqual(replicas.map(() => 404));
      expect(Date.now() - started).toBeLessThan(2000); // a second, and room for the calls themselves on a busy machine

      const back = await adminCall<ModelView>(product, 'PATCH', `/admin/provider-models/${id}`, { status: 'active' });
      expect(back).toMatchObject({ status: 'active', defaultParameters: { temperature: 0.7 } });
      expect(await eventually(statuses, (s) => s.every((x) => x === 200))).toEqual(replicas.map(() => 200));
    });

    it('refuses a fallback cycle and unknown fields with validation_failed naming the field', async () => {
      const a = await createModel({ name: 'cycle-a', connectionId: (await firstConnection()).id, upstreamModel: 'x' });
      await createModel({ name: 'cycle-b', connectionId: (await firstConnection()).id, upstreamModel: 'y', fallbacks: ['cycle-a'] });
      const res = await fetch(`${product.url}/admin/provider-models/${a.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ fallbacks: ['cycle-b'], contextWindow: 'big' }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; details: { field: string }[] } };
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.details.map((d) => d.field)).toEqual(['contextWindow']);
      const cycle = await fetch(`${product.url}/admin/provider-models/${a.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ fallbacks: ['cycle-b'] }),
      });
      expect(cycle.status).toBe(400);
      expect(await cycle.json()).toMatchObject({
        error: { code: 'validation_failed', details: [{ field: 'fallbacks', messages: ['the fallbacks form a cycle: cycle-a -> cycle-b -> cycle-a'] }] },
      });
    });
  });

  describe('Swagger', () => {
    it('documents PATCH, the rewrite-rule routes and every provider-model field', async () => {
      const doc = (await (await fetch(`${product.url}/docs-json`)).json()) as {
        paths: Record<string, Record<string, unknown>>;
        components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
      };
      expect(Object.keys(doc.paths['/admin/provider-models/{id}']!)).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
      expect(Object.keys(doc.paths['/admin/model-rewrite-rules']!)).toEqual(expect.arrayContaining(['get', 'post']));
      expect(Object.keys(doc.paths['/admin/model-rewrite-rules/{id}']!)).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
      const fields = [
        'name', 'displayName', 'kind', 'targets', 'fallbacks', 'failoverByDefault', 'upstreamStreams', 'multimodal', 'stages', 'status',
        'contextWindow', 'maxInputTokens', 'maxOutputTokens', 'requestsPerMinute', 'tokensPerMinute', 'defaultParameters',
      ];
      for (const schema of ['CreateProviderModelDto', 'UpdateProviderModelDto', 'ProviderModelView']) {
        expect(Object.keys(doc.components.schemas[schema]!.properties!)).toEqual(expect.arrayContaining(fields));
      }
    });
  });

  async function firstConnection(): Promise<{ id: string }> {
    const page = await adminCall<{ items: { id: string; name: string }[] }>(product, 'GET', '/admin/connections');
    return page.items.find((c) => c.name === 'acme')!;
  }
});
