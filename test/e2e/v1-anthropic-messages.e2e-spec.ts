import Anthropic from '@anthropic-ai/sdk';
import { DEFAULT_ANTHROPIC_TEXT, startFakeAnthropic, startFakeOpenAI, type FakeAnthropic, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { routeModel, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/**
 * POST /v1/messages and /v1/messages/count_tokens in Anthropic's format, driven with the official
 * @anthropic-ai/sdk client: to an Anthropic upstream the client's body passes through untouched but
 * for the model (cache_control and thinking kept); to an OpenAI-format upstream it is translated
 * both ways, streams included.
 */
describe('/v1/messages with the Anthropic client', () => {
  let anthropicFake: FakeAnthropic;
  let openAIFake: FakeOpenAI;
  let product: Product;
  let claude: RoutedModel;
  let gpt: RoutedModel;
  let client: Anthropic;

  beforeAll(async () => {
    anthropicFake = await startFakeAnthropic();
    openAIFake = await startFakeOpenAI();
    product = await startProduct();
    claude = await routeModel(product, { upstreamUrl: anthropicFake.url, adapter: 'anthropic', modelName: 'team-claude', upstreamModel: 'claude-sonnet-4-5-20250929' });
    gpt = await routeModel(product, { upstreamUrl: openAIFake.url, modelName: 'team-gpt-for-claude-clients', upstreamModel: 'gpt-4o-mini' });
    await waitUntilRoutable(product, claude);
    await waitUntilRoutable(product, gpt);
    // Keys are per route; one key reaches both models (same organisation).
    client = new Anthropic({ apiKey: claude.clientKey, baseURL: product.url, maxRetries: 0 });
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await anthropicFake?.close();
    await openAIFake?.close();
  }, 60_000);

  beforeEach(() => {
    anthropicFake.reset();
    openAIFake.reset();
  });

  describe('to an Anthropic upstream (pass-through)', () => {
    it('sends the client’s body unchanged but for the model, cache_control and thinking kept, and answers the upstream’s message', async () => {
      const params: Anthropic.MessageCreateParamsNonStreaming = {
        model: 'team-claude',
        max_tokens: 2048,
        system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] }],
        metadata: { user_id: 'u-1' },
      };
      const { data: message, response } = await client.messages.create(params).withResponse();
      expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: DEFAULT_ANTHROPIC_TEXT })]);
      expect(message.model).toBe('claude-sonnet-4-5-20250929');
      const sent = anthropicFake.requests[0]!;
      expect(sent.path).toBe('/v1/messages');
      expect(sent.body).toEqual({ ...params, model: 'claude-sonnet-4-5-20250929' });
      // The client's anthropic-version wins over the connection's default: its body is written for it.
      expect(sent.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(response.headers.get('x-request-id')).toMatch(UUID);
      expect(response.headers.get('x-upstream-request-id')).toBeTruthy();
    });

    it('streams the upstream’s events as they came, which the SDK assembles into the message', async () => {
      const stream = client.messages.stream({ model: 'team-claude', max_tokens: 100, messages: [{ role: 'user', content: 'hello' }] });
      const types: string[] = [];
      stream.on('streamEvent', (e) => types.push(e.type));
      const message = await stream.finalMessage();
      expect(message.content[0]).toMatchObject({ type: 'text', text: DEFAULT_ANTHROPIC_TEXT });
      expect(types[0]).toBe('message_start');
      expect(types.at(-1)).toBe('message_stop');
      expect(anthropicFake.requests[0]?.body).toMatchObject({ stream: true, model: 'claude-sonnet-4-5-20250929' });
      // On the wire, the upstream's events as they came, even those the gateway has no use for.
      const raw = await fetch(`${product.url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${claude.clientKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'team-claude', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hello' }] }),
      });
      const text = await raw.text();
      expect(raw.headers.get('content-type')).toContain('text/event-stream');
      expect(text).toContain('event: ping\n');
      expect(text.trimEnd().endsWith('"type":"message_stop"}')).toBe(true);
    });

    it('relays a tool_use answer', async () => {
      anthropicFake.enqueue({ kind: 'message', blocks: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] });
      const message = await client.messages.create({ model: 'team-claude', max_tokens: 100, tools: [weatherTool], messages: [{ role: 'user', content: 'weather?' }] });
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content).toEqual([expect.objectContaining({ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } })]);
      expect(anthropicFake.requests[0]?.body).toMatchObject({ tools: [weatherTool] });
    });

    it('counts tokens at the upstream’s own count_tokens and says so', async () => {
      anthropicFake.enqueue({ kind: 'tokens', inputTokens: 321 });
      const { data, response } = await client.messages.countTokens({ model: 'team-claude', messages: [{ role: 'user', content: 'count me' }] }).withResponse();
      expect(data.input_tokens).toBe(321);
      expect(response.headers.get('x-gateway-token-count')).toBe('provider');
      expect(anthropicFake.requests[0]).toMatchObject({ path: '/v1/messages/count_tokens', body: { model: 'claude-sonnet-4-5-20250929' } });
    });
  });

  describe('to an OpenAI-format upstream (translated)', () => {
    it('translates the request and the answer', async () => {
      openAIFake.enqueue({ kind: 'completion', content: 'Bonjour.', usage: { promptTokens: 11, completionTokens: 2 } });
      const message = await client.messages.create({ model: 'team-gpt-for-claude-clients', max_tokens: 50, system: 'Answer in French.', messages: [{ role: 'user', content: 'hello' }] });
      expect(message).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Bonjour.' }], stop_reason: 'end_turn' });
      expect(message.usage).toMatchObject({ input_tokens: 11, output_tokens: 2 });
      const sent = openAIFake.requests[0]!;
      expect(sent.path).toBe('/v1/chat/completions');
      expect(sent.body).toMatchObject({
        model: 'gpt-4o-mini',
        max_tokens: 50,
        messages: [
          { role: 'system', content: 'Answer in French.' },
          { role: 'user', content: 'hello' },
        ],
      });
    });

    it('streams Anthropic’s event types from an OpenAI stream', async () => {
      openAIFake.enqueue({ kind: 'completion', deltas: ['Bon', 'jour', '.'], usage: { promptTokens: 6, completionTokens: 3 } });
      const stream = client.messages.stream({ model: 'team-gpt-for-claude-clients', max_tokens: 50, messages: [{ role: 'user', content: 'hello' }] });
      const types: string[] = [];
      stream.on('streamEvent', (e) => types.push(e.type));
      const message = await stream.finalMessage();
      expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Bonjour.' })]);
      expect(message.usage.output_tokens).toBe(3);
      expect(types).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
      expect(openAIFake.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    });

    it('translates tools and a tool call', async () => {
      openAIFake.enqueue({ kind: 'completion', toolCalls: [{ id: 'call_9', name: 'get_weather', arguments: '{"city":"Rome"}' }] });
      const message = await client.messages.create({ model: 'team-gpt-for-claude-clients', max_tokens: 50, tools: [weatherTool], messages: [{ role: 'user', content: 'weather?' }] });
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content).toEqual([expect.objectContaining({ type: 'tool_use', id: 'call_9', name: 'get_weather', input: { city: 'Rome' } })]);
      expect(openAIFake.requests[0]?.body).toMatchObject({ tools: [{ type: 'function', function: { name: 'get_weather', parameters: weatherTool.input_schema } }] });
    });

    it('estimates count_tokens locally, saying it is an estimate', async () => {
      const { data, response } = await client.messages.countTokens({ model: 'team-gpt-for-claude-clients', messages: [{ role: 'user', content: 'one two three four five' }] }).withResponse();
      expect(data.input_tokens).toBeGreaterThanOrEqual(5);
      expect(data.input_tokens).toBeLessThan(20);
      expect(response.headers.get('x-gateway-token-count')).toBe('estimate');
      expect(openAIFake.requests).toHaveLength(0);
    });
  });

  it('answers a bad gateway key with Anthropic’s authentication_error (401), by x-api-key or bearer', async () => {
    const bad = new Anthropic({ apiKey: 'sk-gw-not-a-key', baseURL: product.url, maxRetries: 0 });
    const err = await bad.messages.create({ model: 'team-claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const byHeader = await fetch(`${product.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': claude.clientKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'team-claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(byHeader.status).toBe(200);
    expect(anthropicFake.requests).toHaveLength(1);
  });

  it('refuses a body that breaks Anthropic’s request shape with invalid_request_error, before any upstream is paid', async () => {
    const res = await fetch(`${product.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${claude.clientKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'team-claude', messages: [{ role: 'user', content: 'no max_tokens' }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') }, request_id: res.headers.get('x-request-id') });
    const unknownModel = await client.messages.create({ model: 'nobody-has-this', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(unknownModel).toBeInstanceOf(Anthropic.NotFoundError);
    expect(anthropicFake.requests).toHaveLength(0);
  });
});
