import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { DEFAULT_BEDROCK_TEXT, startFakeBedrock, TEST_AWS_CREDENTIALS, type FakeBedrock } from '../support/fake-upstream/index.js';
import { adminCall, waitForCostReport } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

const CLAUDE = 'anthropic.claude-3-5-haiku-20241022-v1:0';
/** Priced, and called by the pricing test only, so its cost group holds exactly that test's calls. */
const PRICED = 'anthropic.claude-3-haiku-20240307-v1:0';
const TITAN = 'amazon.titan-embed-text-v2:0';
const COHERE = 'cohere.embed-english-v3';
/** A 1x1 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

interface ConnectionBody {
  id: string;
  adapter: string;
  baseUrl: string;
  settings: Record<string, unknown>;
  secretsMasked: Record<string, string>;
}

const weather: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

/**
 * A Bedrock connection (issue 13) driven with the official `openai` and `@anthropic-ai/sdk` clients:
 * each call goes out as Converse or ConverseStream signed with SigV4 (the fake verifies the signature
 * as AWS does), ConverseStream's binary event-stream comes back translated into the client's SSE,
 * Titan and Cohere embeddings go through InvokeModel, Bedrock's errors reach the client in its
 * format, and the call is priced from Bedrock's usage.
 */
describe('a Bedrock connection through /v1', () => {
  let fake: FakeBedrock;
  let product: Product;
  let connection: ConnectionBody;
  let clientKey: string;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    fake = await startFakeBedrock({ region: 'eu-central-1' });
    product = await startProduct();
    connection = await adminCall<ConnectionBody>(product, 'POST', '/admin/connections', {
      name: `bedrock-${Date.now()}`,
      adapter: 'bedrock',
      baseUrl: fake.url,
      settings: { region: 'eu-central-1', ...TEST_AWS_CREDENTIALS },
    });
    for (const [name, upstreamModel, kind] of [
      ['team-bedrock-claude', CLAUDE, 'chat'],
      ['team-bedrock-priced', PRICED, 'chat'],
      ['team-titan', TITAN, 'embedding'],
      ['team-cohere', COHERE, 'embedding'],
    ] as const) {
      await adminCall(product, 'POST', '/admin/provider-models', { name, connectionId: connection.id, upstreamModel, kind });
    }
    await adminCall(product, 'POST', '/admin/model-definitions', {
      name: `bedrock-haiku-${Date.now()}`,
      matchPattern: `^${PRICED.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
      prices: { input: '0.0000008', output: '0.000004', cache_read: '0.00000008', cache_write: '0.000001' },
      effectiveFrom: '2024-01-01T00:00:00Z',
    });
    clientKey = (await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: 'bedrock-client' })).key;
    openai = new OpenAI({ apiKey: clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: clientKey, baseURL: product.url, maxRetries: 0 });
    // Change events reach the gateway within a second.
    const deadline = Date.now() + 10_000; // set-up wait: change events take a second, longer on a busy machine
    for (;;) {
      const models = await openai.models.list();
      if (['team-bedrock-claude', 'team-bedrock-priced', 'team-titan', 'team-cohere'].every((m) => models.data.some((d) => d.id === m))) break;
      if (Date.now() > deadline) throw new Error('the Bedrock models never became routable');
      await new Promise((r) => setTimeout(r, 25));
    }
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  /** Signatures the fake is meant to refuse (a connection with a wrong secret). */
  let meantRefusals = 0;
  beforeEach(() => {
    fake.reset();
    meantRefusals = 0;
  });

  afterEach(() => {
    // Every other request the gateway sent was signed so that the fake's recomputed signature matched.
    expect(fake.refusedSignatures).toBe(meantRefusals);
  });

  describe('the typed connection', () => {
    it('keeps region and endpoint as settings and the AWS keys as masked secrets', () => {
      expect(connection).toMatchObject({ adapter: 'bedrock', baseUrl: fake.url, settings: { region: 'eu-central-1' } });
      expect(connection.secretsMasked).toEqual({ accessKeyId: '••••MPLE', secretAccessKey: '••••EKEY' });
      expect(JSON.stringify(connection)).not.toContain(TEST_AWS_CREDENTIALS.secretAccessKey);
    });

    it('takes a connection without an endpoint: the region names it', async () => {
      const regional = await adminCall<ConnectionBody>(product, 'POST', '/admin/connections', {
        name: `bedrock-regional-${Date.now()}`,
        adapter: 'bedrock',
        settings: { region: 'ap-southeast-2', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'regional-secret', sessionToken: 'regional-token' },
      });
      expect(regional).toMatchObject({ adapter: 'bedrock', baseUrl: '', settings: { region: 'ap-southeast-2' } });
      expect(Object.keys(regional.secretsMasked).sort()).toEqual(['accessKeyId', 'secretAccessKey', 'sessionToken']);
      expect(JSON.stringify(regional)).not.toContain('regional-secret');
      expect(JSON.stringify(regional)).not.toContain('regional-token');
    });

    it.each([
      ['a missing region', { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's' }, 'settings.region', 'is required'],
      ['a malformed region', { region: 'Frankfurt', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's' }, 'settings.region', 'must be an AWS region name'],
      ['a missing secret', { region: 'us-east-1', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }, 'settings.secretAccessKey', 'is required'],
      ['a malformed access key id', { region: 'us-east-1', accessKeyId: 'not a key', secretAccessKey: 's' }, 'settings.accessKeyId', 'must be an AWS access key id'],
    ])('refuses %s with 400 naming the field', async (_what, settings, field, message) => {
      const res = await fetch(`${product.url}/admin/connections`, {
        method: 'POST',
        headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `bad-bedrock-${Date.now()}`, adapter: 'bedrock', settings }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; details: { field: string; messages: string[] }[] } };
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.details).toEqual(expect.arrayContaining([{ field, messages: [expect.stringContaining(message)] }]));
    });
  });

  describe('the connection test', () => {
    it('answers a one-line prompt through Converse with its text and latency; a wrong secret is an auth failure and marks the connection', async () => {
      fake.enqueue({ kind: 'answer', text: 'pong' });
      const ok = await adminCall<{ ok: boolean; text?: string; latencyMs: number; status: string }>(product, 'POST', `/admin/connections/${connection.id}/test`, { model: CLAUDE });
      expect(ok).toMatchObject({ ok: true, text: 'pong', status: 'active' });
      expect(ok.latencyMs).toBeGreaterThanOrEqual(0);
      expect(fake.requests[0]!.path).toBe(`/model/${encodeURIComponent(CLAUDE)}/converse`);

      const wrong = await adminCall<ConnectionBody>(product, 'POST', '/admin/connections', {
        name: `bedrock-test-wrong-${Date.now()}`,
        adapter: 'bedrock',
        baseUrl: fake.url,
        settings: { region: 'eu-central-1', accessKeyId: TEST_AWS_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret-for-the-test' },
      });
      meantRefusals = 1;
      const failed = await adminCall<{ ok: boolean; errorKind?: string; message?: string; status: string }>(product, 'POST', `/admin/connections/${wrong.id}/test`, { model: CLAUDE });
      expect(failed).toMatchObject({ ok: false, errorKind: 'auth', status: 'error' });
      expect(failed.message).toContain('signature');
    });
  });

  describe('openai client', () => {
    it('answers a connection whose secret AWS refuses as the operator’s problem (502 upstream_auth_failed), never as a bad gateway key', async () => {
      const wrong = await adminCall<ConnectionBody>(product, 'POST', '/admin/connections', {
        name: `bedrock-wrong-${Date.now()}`,
        adapter: 'bedrock',
        baseUrl: fake.url,
        settings: { region: 'eu-central-1', accessKeyId: TEST_AWS_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret-key' },
      });
      await adminCall(product, 'POST', '/admin/provider-models', { name: 'team-bedrock-wrong', connectionId: wrong.id, upstreamModel: CLAUDE });
      meantRefusals = 1;
      const deadline = Date.now() + 10_000; // set-up wait: change events take a second, longer on a busy machine
      let err: InstanceType<typeof OpenAI.APIError>;
      do {
        err = (await openai.chat.completions.create({ model: 'team-bedrock-wrong', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      } while (err.status === 404 && Date.now() < deadline && (await new Promise((r) => setTimeout(r, 25))) === undefined);
      expect(err.status).toBe(502);
      expect(err.code).toBe('upstream_auth_failed');
      expect(err.message).toContain('The request signature we calculated does not match');
      expect(fake.refusedSignatures).toBe(1);
    });

    it('chats through Converse, the request signed for bedrock in the region, the system prompt and settings translated', async () => {
      fake.enqueue({ kind: 'answer', text: 'Bonjour from Bedrock', usage: { inputTokens: 21, outputTokens: 4 } });
      const { data, response } = await openai.chat.completions
        .create({ model: 'team-bedrock-claude', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }], max_tokens: 50, temperature: 0.3, response_format: { type: 'json_object' } })
        .withResponse();
      expect(data.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Bonjour from Bedrock' }, finish_reason: 'stop' });
      expect(data.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 4, total_tokens: 25 });
      // JSON mode has no Converse equivalent: reported, not dropped silently.
      expect(response.headers.get('x-gateway-warnings')).toContain('response_format.json_object is not supported by this provider');
      expect(response.headers.get('x-upstream-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const sent = fake.requests[0]!;
      expect(sent.path).toBe(`/model/${encodeURIComponent(CLAUDE)}/converse`);
      expect(String(sent.headers.authorization)).toMatch(/Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-central-1\/bedrock\/aws4_request/);
      expect(sent.body).toEqual({
        system: [{ text: 'Be brief.' }],
        messages: [{ role: 'user', content: [{ text: 'Say hello' }] }],
        inferenceConfig: { maxTokens: 50, temperature: 0.3 },
      });
    });

    it('streams: ConverseStream’s event-stream becomes OpenAI chunks, usage included', async () => {
      fake.enqueue({ kind: 'answer', usage: { inputTokens: 8, outputTokens: 7, cacheReadInputTokens: 2 } });
      const stream = await openai.chat.completions.create({ model: 'team-bedrock-claude', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
      let text = '';
      let finish: string | null | undefined;
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe(DEFAULT_BEDROCK_TEXT);
      expect(finish).toBe('stop');
      expect(usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 2 } });
      expect(fake.requests[0]!.path).toBe(`/model/${encodeURIComponent(CLAUDE)}/converse-stream`);
    });

    it('calls tools, whole and streamed, and sends the tool result back as toolResult', async () => {
      const toolUses = [{ toolUseId: 'tooluse_w1', name: 'get_weather', input: { city: 'Paris' } }];
      fake.enqueue({ kind: 'answer', toolUses }, { kind: 'answer', toolUses });
      const whole = await openai.chat.completions.create({ model: 'team-bedrock-claude', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weather], tool_choice: 'required' });
      expect(whole.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { tool_calls: [{ id: 'tooluse_w1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] } });
      expect(fake.requests[0]!.body).toMatchObject({ toolConfig: { tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: weather.function.parameters } } }], toolChoice: { any: {} } } });

      const stream = await openai.chat.completions.create({ model: 'team-bedrock-claude', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weather], stream: true });
      let args = '';
      let name = '';
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        const call = chunk.choices[0]?.delta?.tool_calls?.[0];
        if (call?.function?.name) name = call.function.name;
        args += call?.function?.arguments ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect({ name, args: JSON.parse(args) as unknown, finish }).toEqual({ name: 'get_weather', args: { city: 'Paris' }, finish: 'tool_calls' });

      fake.enqueue({ kind: 'answer', text: 'It is sunny in Paris.' });
      const followUp = await openai.chat.completions.create({
        model: 'team-bedrock-claude',
        tools: [weather],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          whole.choices[0]!.message as OpenAI.ChatCompletionMessageParam,
          { role: 'tool', tool_call_id: 'tooluse_w1', content: 'sunny, 24°C' },
        ],
      });
      expect(followUp.choices[0]?.message.content).toBe('It is sunny in Paris.');
      expect((fake.requests.at(-1)!.body as { messages: unknown[] }).messages).toEqual([
        { role: 'user', content: [{ text: 'Weather in Paris?' }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_w1', name: 'get_weather', input: { city: 'Paris' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_w1', content: [{ text: 'sunny, 24°C' }] } }] },
      ]);
    });

    it('sends an image as a base64 image block', async () => {
      await openai.chat.completions.create({
        model: 'team-bedrock-claude',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] }],
      });
      expect((fake.requests[0]!.body as { messages: unknown[] }).messages).toEqual([
        { role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: PNG } } }] },
      ]);
    });

    it('answers an upstream 429 ThrottlingException as a 429 rate limit', async () => {
      fake.enqueue({ kind: 'error', status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.', retryAfter: 3 });
      const err = (await openai.chat.completions.create({ model: 'team-bedrock-claude', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err.status).toBe(429);
      expect(err.message).toContain('Too many requests');
      expect(err.headers?.get('retry-after')).toBe('3');
    });

    it('ends a stream with an error chunk when Bedrock sends an exception frame mid-stream', async () => {
      fake.enqueue({ kind: 'stream-exception', afterEvents: 3, exception: 'modelStreamErrorException', message: 'The model stopped unexpectedly' });
      const stream = await openai.chat.completions.create({ model: 'team-bedrock-claude', messages: [{ role: 'user', content: 'hi' }], stream: true });
      let text = '';
      const err = await (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as Error).message).toContain('The model stopped unexpectedly');
      expect(text.length).toBeGreaterThan(0);
      expect(DEFAULT_BEDROCK_TEXT.startsWith(text) && text !== DEFAULT_BEDROCK_TEXT).toBe(true);
    });

    it('embeds with Titan (one text) and Cohere (several), in both encodings', async () => {
      const titan = await openai.embeddings.create({ model: 'team-titan', input: 'hello world', dimensions: 256 });
      expect(titan.data).toHaveLength(1);
      expect(titan.data[0]!.embedding).toHaveLength(256);
      expect(titan.usage.prompt_tokens).toBe(3);
      expect(fake.requests[0]).toMatchObject({ path: `/model/${encodeURIComponent(TITAN)}/invoke`, body: { inputText: 'hello world', dimensions: 256 } });

      const cohere = await openai.embeddings.create({ model: 'team-cohere', input: ['alpha', 'beta', 'gamma'], encoding_format: 'float' });
      expect(cohere.data.map((d) => d.index)).toEqual([0, 1, 2]);
      expect(cohere.data[0]!.embedding).toHaveLength(1024);
      // Cohere's body has no token count; InvokeModel's x-amzn-bedrock-input-token-count header has (14 characters: 4 tokens in the fake).
      expect(cohere.usage.prompt_tokens).toBe(4);
      expect(fake.requests[1]!.body).toEqual({ texts: ['alpha', 'beta', 'gamma'], input_type: 'search_document' });

      const several = (await openai.embeddings.create({ model: 'team-titan', input: ['a', 'b'] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(several.status).toBe(400);
      expect(several.param).toBe('input');
    });
  });

  describe('anthropic client', () => {
    it('gets a whole message and a streamed one', async () => {
      fake.enqueue({ kind: 'answer', text: 'Hallo!', usage: { inputTokens: 5, outputTokens: 2 } });
      const message = await anthropic.messages.create({ model: 'team-bedrock-claude', max_tokens: 64, system: 'Be nice.', messages: [{ role: 'user', content: 'hi' }] });
      expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Hallo!' })]);
      expect(message).toMatchObject({ stop_reason: 'end_turn', usage: { input_tokens: 5, output_tokens: 2 } });
      expect(fake.requests[0]!.body).toEqual({ system: [{ text: 'Be nice.' }], messages: [{ role: 'user', content: [{ text: 'hi' }] }], inferenceConfig: { maxTokens: 64 } });

      const streamed = await anthropic.messages.stream({ model: 'team-bedrock-claude', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
      expect(streamed.content[0]).toMatchObject({ type: 'text', text: DEFAULT_BEDROCK_TEXT });
      expect(streamed.stop_reason).toBe('end_turn');
    });

    it('uses tools and sends images', async () => {
      fake.enqueue({ kind: 'answer', toolUses: [{ toolUseId: 'tu_a', name: 'get_weather', input: { city: 'Oslo' } }] });
      const message = await anthropic.messages.create({
        model: 'team-bedrock-claude',
        max_tokens: 64,
        tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
        tool_choice: { type: 'tool', name: 'get_weather' },
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather here?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }] }],
      });
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content).toEqual([expect.objectContaining({ type: 'tool_use', id: 'tu_a', name: 'get_weather', input: { city: 'Oslo' } })]);
      expect(fake.requests[0]!.body).toMatchObject({
        messages: [{ role: 'user', content: [{ text: 'Weather here?' }, { image: { format: 'png', source: { bytes: PNG } } }] }],
        toolConfig: { toolChoice: { tool: { name: 'get_weather' } } },
      });
    });

    it('answers a throttled call 429 and a mid-stream exception as Anthropic’s error event', async () => {
      fake.enqueue({ kind: 'error', status: 429, type: 'ThrottlingException', message: 'Rate exceeded' });
      const err = (await anthropic.messages.create({ model: 'team-bedrock-claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
      expect(err.status).toBe(429);
      expect(err.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });

      fake.enqueue({ kind: 'stream-exception', afterEvents: 2, exception: 'throttlingException', message: 'Slow down in the stream' });
      const res = await fetch(`${product.url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'team-bedrock-claude', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const text = await res.text();
      expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"rate_limit_error","message":"Slow down in the stream"/);
      expect(text).not.toContain('message_stop');
    });
  });

  it('prices the calls from Bedrock’s usage, cache reads and writes each at their price', async () => {
    const usage = { inputTokens: 1000, outputTokens: 200, cacheReadInputTokens: 500, cacheWriteInputTokens: 100 };
    fake.enqueue({ kind: 'answer', text: 'priced', usage }, { kind: 'answer', text: 'priced', usage });
    await openai.chat.completions.create({ model: 'team-bedrock-priced', messages: [{ role: 'user', content: 'price me' }] });
    const stream = await openai.chat.completions.create({ model: 'team-bedrock-priced', messages: [{ role: 'user', content: 'price me' }], stream: true });
    for await (const _ of stream) {
      // drain
    }
    const report = await waitForCostReport(product, (r) => r.groups.some((g) => g.key === PRICED && g.requests >= 2 && g.unpricedRequests === 0));
    const group = report.groups.find((g) => g.key === PRICED)!;
    expect(group).toMatchObject({ requests: 2, inputTokens: 2 * 1600, outputTokens: 2 * 200, unpricedRequests: 0 });
    // Per call: 1000 x 0.0000008 + 500 read x 0.00000008 + 100 written x 0.000001 + 200 out x 0.000004 = 0.00174.
    expect(group.cost).toBe('0.00348');
  });
});
