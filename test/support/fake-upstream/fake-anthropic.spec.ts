import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import Anthropic from '@anthropic-ai/sdk';
import { fakeAnthropicErrors, type FakeAnthropicBehaviour } from './anthropic-behaviour.js';
import { replayAnthropicJson, replayAnthropicStream } from './anthropic-replay.js';
import { estimateInputTokens } from './anthropic-wire.js';
import * as golden from '../../fixtures/anthropic/messages-fixtures.js';
import { startFakeAnthropic, type FakeAnthropic } from './fake-anthropic.js';

/**
 * The fake's shapes are trusted only because the official Anthropic client accepts them
 * (issue 12): every answer here is read through `@anthropic-ai/sdk`, or through fetch where the
 * wire itself (event lines, pings, a dropped socket) is the point.
 */

type APIErr = InstanceType<typeof Anthropic.APIError>;

const KEY = 'sk-ant-api03-fake-key-0123456789';
const MODEL = 'claude-sonnet-4-5-20250929';
const ask = { model: MODEL, max_tokens: 1024, messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }] };

/** The `event:` name and parsed `data:` of each SSE event of a body. */
function sseEvents(text: string): { event: string; data: { type: string } & Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter((e) => e.trim() !== '')
    .map((e) => {
      const [eventLine, dataLine] = e.split('\n');
      return { event: eventLine!.replace(/^event: /, ''), data: JSON.parse(dataLine!.replace(/^data: /, '')) as { type: string } };
    });
}

async function rawPost(fake: FakeAnthropic, body: unknown, headers: Record<string, string> = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' }): Promise<Response> {
  return fetch(`${fake.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** Everything a streamed answer sent before it ended or its connection dropped (fetch would throw on the drop). */
function streamUntilClosed(fake: FakeAnthropic, body: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${fake.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('close', () => resolve(text));
      res.on('error', () => undefined);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, got an answer');
}

const weatherTool = { name: 'get_weather', description: 'Weather at a place', input_schema: { type: 'object' as const, properties: { location: { type: 'string' } } } };

const toolAnswer: FakeAnthropicBehaviour = {
  kind: 'message',
  id: 'msg_01ToolToolTool',
  blocks: [
    { type: 'thinking', thinking: 'The user wants weather.\nI should call the tool.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxB' },
    { type: 'text', text: 'Let me check the weather in Paris.' },
    { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'Paris, FR', unit: 'celsius', days: [1, 2], note: 'naïve 🌍' }, jsonPieces: 5 },
  ],
  usage: { inputTokens: 384, outputTokens: 62, cacheReadInputTokens: 1000, cacheCreationInputTokens: 200 },
};

describe('fake Anthropic upstream, read by the official @anthropic-ai/sdk client', () => {
  let fake: FakeAnthropic;
  let client: Anthropic;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: KEY });
    client = new Anthropic({ apiKey: KEY, baseURL: fake.url, maxRetries: 0 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    fake.expectApiKey(KEY);
  });

  it('answers a text message with the queued content, model, id, stop reason and usage, and records the request headers and body', async () => {
    fake.enqueue({ kind: 'message', content: 'Bonjour ! 🌍', id: 'msg_01XFDUDYJgAACzvnptvVoYEL', model: 'claude-sonnet-4-5', usage: { inputTokens: 12, outputTokens: 17 } });
    const { data: message, response } = await client.messages
      .create({ ...ask, system: 'Be brief.' }, { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } })
      .withResponse();
    expect(message).toEqual({
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'Bonjour ! 🌍', citations: null }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage: expect.objectContaining({ input_tokens: 12, output_tokens: 17, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }),
    });
    expect(response.headers.get('request-id')).toMatch(/^req_fake/);

    expect(fake.requests).toHaveLength(1);
    const [recorded] = fake.requests;
    expect(recorded).toMatchObject({ method: 'POST', path: '/v1/messages', query: '' });
    // This SDK sends its key as a bearer token; older ones, curl and Claude Code send x-api-key (tested below).
    expect(recorded!.headers).toMatchObject({
      authorization: `Bearer ${KEY}`,
      'anthropic-version': expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      'anthropic-beta': 'prompt-caching-2024-07-31',
    });
    expect(recorded!.body).toEqual({ ...ask, system: 'Be brief.' });
  });

  it('answers the request model by default, and the max_tokens and stop_sequence stop reasons', async () => {
    fake.enqueue({ kind: 'message', stopReason: 'max_tokens' }, { kind: 'message', stopSequence: '\n\nHuman:' });
    const cut = await client.messages.create({ ...ask, model: 'claude-haiku-4-5' });
    expect(cut).toMatchObject({ model: 'claude-haiku-4-5', stop_reason: 'max_tokens', stop_sequence: null });
    const stopped = await client.messages.create(ask);
    expect(stopped).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: '\n\nHuman:' });
  });

  it('answers tool_use and thinking blocks with their ids, inputs and signature, and cache usage with its breakdown', async () => {
    fake.enqueue(toolAnswer);
    const message = await client.messages.create({ ...ask, tools: [weatherTool], thinking: { type: 'enabled', budget_tokens: 1024 } });
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'The user wants weather.\nI should call the tool.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxB' },
      { type: 'text', text: 'Let me check the weather in Paris.', citations: null },
      { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'Paris, FR', unit: 'celsius', days: [1, 2], note: 'naïve 🌍' }, caller: { type: 'direct' } },
    ]);
    expect(message.usage).toMatchObject({
      input_tokens: 384,
      output_tokens: 62,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 200,
      cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 0 },
    });
    expect((fake.requests[0]!.body as { tools: unknown[] }).tools).toEqual([weatherTool]);
  });

  it('answers redacted_thinking blocks and the thinking token count', async () => {
    fake.enqueue({
      kind: 'message',
      blocks: [{ type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' }, { type: 'text', text: '12,231' }],
      usage: { outputTokens: 300, thinkingTokens: 290, cacheCreation: { ephemeral5m: 0, ephemeral1h: 64 }, cacheCreationInputTokens: 64 },
    });
    const message = await client.messages.create(ask);
    expect(message.content[0]).toEqual({ type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' });
    expect(message.usage).toMatchObject({ output_tokens_details: { thinking_tokens: 290 }, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 64 } });
  });

  it('streams a tool call that the SDK accumulates into the same message as the JSON answer, with cumulative output usage', async () => {
    fake.enqueue(toolAnswer, toolAnswer);
    const json = await client.messages.create(ask);
    const streamed = await client.messages.stream(ask).finalMessage();
    const { usage: jsonUsage, ...jsonRest } = json;
    // parsed_output is the SDK's own addition to a streamed message, not a wire field.
    const { usage: streamedUsage, parsed_output: _parsed, ...streamedRest } = streamed as Anthropic.Message & { parsed_output?: unknown };
    expect(streamedRest).toEqual(jsonRest);
    // message_start reports input and cache tokens; message_delta the total output.
    expect(streamedUsage).toMatchObject({ input_tokens: 384, output_tokens: 62, cache_read_input_tokens: 1000, cache_creation_input_tokens: 200 });
    expect(jsonUsage.output_tokens).toBe(62);
    expect(fake.requests[1]!.body).toMatchObject({ stream: true });
  });

  it('streams the raw event sequence the SDK expects: message_start with output_tokens 1, deltas of every kind, message_delta, message_stop', async () => {
    fake.enqueue({ ...toolAnswer, kind: 'stream' });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of await client.messages.create({ ...ask, stream: true })) events.push(event);

    expect(events[0]).toMatchObject({
      type: 'message_start',
      message: { id: 'msg_01ToolToolTool', content: [], stop_reason: null, usage: { input_tokens: 384, output_tokens: 1, cache_read_input_tokens: 1000, cache_creation_input_tokens: 200 } },
    });
    const deltaTypes = events.flatMap((e) => (e.type === 'content_block_delta' ? [e.delta.type] : []));
    expect(new Set(deltaTypes)).toEqual(new Set(['thinking_delta', 'signature_delta', 'text_delta', 'input_json_delta']));
    const json = events.flatMap((e) => (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta' ? [e.delta.partial_json] : []));
    // An empty piece first, as the API sends, then the input split in five.
    expect(json).toHaveLength(6);
    expect(json[0]).toBe('');
    expect(JSON.parse(json.join(''))).toEqual({ location: 'Paris, FR', unit: 'celsius', days: [1, 2], note: 'naïve 🌍' });
    expect(events.filter((e) => e.type === 'content_block_start').map((e) => (e as Anthropic.RawContentBlockStartEvent).index)).toEqual([0, 1, 2]);
    expect(events.filter((e) => e.type === 'content_block_stop')).toHaveLength(3);
    expect(events.at(-2)).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 62 } });
    expect(events.at(-1)).toEqual({ type: 'message_stop' });
  });

  it('writes an `event:` line naming each event, and a ping after the first block start', async () => {
    fake.enqueue({ kind: 'message', content: 'one two three' });
    const res = await rawPost(fake, { ...ask, stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = sseEvents(await res.text());
    for (const e of events) expect(e.event).toBe(e.data.type);
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('repeats input and cache usage in message_delta when asked, which the SDK keeps in the final message', async () => {
    fake.enqueue({ kind: 'stream', usage: { inputTokens: 5, outputTokens: 9, cacheReadInputTokens: 7 }, inputUsageInDelta: true });
    const events = sseEvents(await (await rawPost(fake, { ...ask, stream: true })).text());
    expect(events.at(-2)!.data).toMatchObject({ usage: { input_tokens: 5, output_tokens: 9, cache_read_input_tokens: 7, cache_creation_input_tokens: 0 } });
  });

  it('sends cumulative usage in several message_delta events when asked, which the SDK keeps as the last total, not a sum', async () => {
    fake.enqueue({ kind: 'message', usage: { outputTokens: 90 }, messageDeltas: 3 }, { kind: 'message', usage: { outputTokens: 90 }, messageDeltas: 3 });
    const events = sseEvents(await (await rawPost(fake, { ...ask, stream: true })).text());
    const deltas = events.filter((e) => e.event === 'message_delta').map((e) => e.data as unknown as Anthropic.RawMessageDeltaEvent);
    expect(deltas.map((d) => [d.delta.stop_reason, d.usage.output_tokens])).toEqual([
      [null, 30],
      [null, 60],
      ['end_turn', 90],
    ]);
    expect((await client.messages.stream(ask).finalMessage()).usage.output_tokens).toBe(90);
  });

  it('counts tokens: a queued count, else a deterministic estimate of the body', async () => {
    fake.enqueue({ kind: 'tokens', inputTokens: 4242 });
    expect(await client.messages.countTokens({ model: MODEL, messages: ask.messages })).toEqual({ input_tokens: 4242 });
    const body = { model: MODEL, messages: ask.messages, system: 'You are a weather bot.', tools: [weatherTool] };
    const estimated = await client.messages.countTokens(body);
    expect(estimated.input_tokens).toBe(estimateInputTokens(body));
    expect(estimated.input_tokens).toBeGreaterThan(estimateInputTokens({ model: MODEL, messages: ask.messages }));
    expect(fake.requests.map((r) => r.path)).toEqual(['/v1/messages/count_tokens', '/v1/messages/count_tokens']);
  });

  it('lists models in Anthropic list shape', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001', 'claude-opus-4-1-20250805']);
    expect(await client.models.retrieve('claude-haiku-4-5-20251001')).toMatchObject({ type: 'model', id: 'claude-haiku-4-5-20251001' });
    expect(await rejection(client.models.retrieve('gpt-4o'))).toBeInstanceOf(Anthropic.NotFoundError);
  });

  describe('failures', () => {
    it('refuses a wrong key with 401 authentication_error, which the SDK raises as AuthenticationError with the request id', async () => {
      const wrong = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: fake.url, maxRetries: 0 });
      const err = await rejection(wrong.messages.create(ask));
      expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
      const apiErr = err as InstanceType<typeof Anthropic.AuthenticationError>;
      expect(apiErr).toMatchObject({ status: 401, type: 'authentication_error' });
      expect(apiErr.requestID).toMatch(/^req_fake/);
      expect(apiErr.error).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' }, request_id: apiErr.requestID });
      expect(fake.requests[0]!.headers.authorization).toBe('Bearer sk-ant-wrong');
    });

    it('accepts the key as x-api-key too, as older clients, curl and Claude Code send it, and refuses a wrong one', async () => {
      const viaHeader = (key: string) => new Anthropic({ apiKey: null, defaultHeaders: { 'x-api-key': key }, baseURL: fake.url, maxRetries: 0 });
      await expect(viaHeader(KEY).messages.create(ask)).resolves.toMatchObject({ type: 'message' });
      expect(fake.requests[0]!.headers['x-api-key']).toBe(KEY);
      expect(fake.requests[0]!.headers.authorization).toBeUndefined();
      expect(await rejection(viaHeader('sk-ant-wrong').messages.create(ask))).toBeInstanceOf(Anthropic.AuthenticationError);
    });

    it('refuses a request without a key or without anthropic-version', async () => {
      const noKey = await rawPost(fake, ask, { 'anthropic-version': '2023-06-01' });
      expect(noKey.status).toBe(401);
      expect(await noKey.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: 'x-api-key header is required' } });
      const noVersion = await rawPost(fake, ask, { 'x-api-key': KEY });
      expect(noVersion.status).toBe(400);
      const body = (await noVersion.json()) as { request_id: string };
      expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } });
      expect(noVersion.headers.get('request-id')).toBe(body.request_id);
    });

    it('refuses a body without max_tokens as the API does', async () => {
      const err = await rejection(client.messages.create({ model: MODEL, messages: ask.messages } as Anthropic.MessageCreateParamsNonStreaming));
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      expect((err as APIErr).error).toMatchObject({ error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
    });

    it('raises each queued status as the SDK error class and type Anthropic documents', async () => {
      const cases: [FakeAnthropicBehaviour, abstract new (...args: never[]) => Error, number, string][] = [
        [fakeAnthropicErrors.promptTooLong(208_310, 200_000), Anthropic.BadRequestError, 400, 'invalid_request_error'],
        [fakeAnthropicErrors.invalidApiKey(), Anthropic.AuthenticationError, 401, 'authentication_error'],
        [fakeAnthropicErrors.permissionDenied(), Anthropic.PermissionDeniedError, 403, 'permission_error'],
        [fakeAnthropicErrors.modelNotFound('claude-nope'), Anthropic.NotFoundError, 404, 'not_found_error'],
        [fakeAnthropicErrors.apiError(), Anthropic.InternalServerError, 500, 'api_error'],
        [fakeAnthropicErrors.overloaded(), Anthropic.InternalServerError, 529, 'overloaded_error'],
      ];
      for (const [behaviour, errorClass, status, type] of cases) {
        fake.enqueue(behaviour);
        const err = await rejection(client.messages.create(ask));
        expect({ status, isClass: err instanceof errorClass }).toEqual({ status, isClass: true });
        expect({ status: (err as APIErr).status, type: (err as APIErr).type }).toEqual({ status, type });
      }
      expect((fake.requests[0]!.body as { model: string }).model).toBe(MODEL);
    });

    it('answers queued errors at count_tokens too, and refuses a `tokens` behaviour that reaches /v1/messages', async () => {
      fake.enqueue(fakeAnthropicErrors.rateLimited(3), { kind: 'tokens', inputTokens: 5 });
      expect(await rejection(client.messages.countTokens({ model: MODEL, messages: ask.messages }))).toBeInstanceOf(Anthropic.RateLimitError);
      const err = (await rejection(client.messages.create(ask))) as APIErr;
      expect({ status: err.status, message: (err.error as Anthropic.ErrorResponse).error.message }).toEqual({
        status: 500,
        message: 'fake Anthropic: a `tokens` behaviour was queued but POST /v1/messages came',
      });
    });

    it('says how long the prompt was in a 400 prompt-too-long error', async () => {
      fake.enqueue(fakeAnthropicErrors.promptTooLong(208_310, 200_000));
      const err = (await rejection(client.messages.create(ask))) as APIErr;
      expect((err.error as Anthropic.ErrorResponse).error.message).toBe('prompt is too long: 208310 tokens > 200000 maximum');
    });

    it('answers 529 overloaded_error as the SDK OverloadedError', async () => {
      fake.enqueue(fakeAnthropicErrors.overloaded());
      const err = await rejection(client.messages.create(ask));
      expect(err).toBeInstanceOf(Anthropic.OverloadedError);
      expect((err as APIErr).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    });

    it('answers 429 with retry-after and anthropic-ratelimit-* headers, raised as RateLimitError', async () => {
      fake.enqueue(fakeAnthropicErrors.rateLimited(17));
      const err = await rejection(client.messages.create(ask));
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
      const headers = (err as APIErr).headers!;
      expect(headers.get('retry-after')).toBe('17');
      expect(headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
      const reset = Date.parse(headers.get('anthropic-ratelimit-requests-reset')!);
      expect(reset - Date.now()).toBeGreaterThan(10_000);
      expect(reset - Date.now()).toBeLessThan(18_000);
      expect((err as APIErr).type).toBe('rate_limit_error');
    });

    it('sends an error event mid-stream, which the SDK raises as an APIError after the first deltas', async () => {
      fake.enqueue({ kind: 'message', content: 'Once upon a time', streamError: { afterEvents: 4 } });
      const seen: string[] = [];
      const stream = await client.messages.create({ ...ask, stream: true });
      const err = await rejection(
        (async () => {
          for await (const event of stream) seen.push(event.type === 'content_block_delta' && event.delta.type === 'text_delta' ? event.delta.text : event.type);
        })(),
      );
      // message_start, content_block_start, ping (not surfaced), one delta; then the error.
      expect(seen).toEqual(['message_start', 'content_block_start', 'Once ']);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect(err).toMatchObject({ type: 'overloaded_error', error: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    });

    it('breaks the connection after N events without message_stop, which the SDK stream reports as an error', async () => {
      fake.enqueue({ kind: 'message', content: 'a b c d e f', breakAfterEvents: 3 }, { kind: 'message', content: 'a b c d e f', breakAfterEvents: 3 });
      const text = await streamUntilClosed(fake, { ...ask, stream: true });
      expect(sseEvents(text).map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'ping']);

      const err = await rejection(client.messages.stream(ask).finalMessage());
      expect(err).toBeInstanceOf(Error);
    });

    it('spaces stream events by the per-event delay', async () => {
      fake.enqueue({ kind: 'message', content: 'a b c', chunkDelayMs: 40 });
      const started = Date.now();
      const events = sseEvents(await (await rawPost(fake, { ...ask, stream: true })).text());
      // message_start, block start, ping, 3 deltas, block stop, message_delta, message_stop: 9 events, 8 gaps.
      expect(events).toHaveLength(9);
      expect(Date.now() - started).toBeGreaterThanOrEqual(8 * 40 - 10);
    });

    it('echoes the key (bearer scheme left out) plain, base64 and hex in the error message when asked, and records what it echoed', async () => {
      fake.enqueue(fakeAnthropicErrors.echoingInvalidApiKey({ headers: ['authorization', 'x-trace'], inResponseHeaders: ['x-echo'] }));
      const err = (await rejection(client.messages.create(ask, { headers: { 'x-trace': 'trace-secret' } }))) as APIErr;
      const message = (err.error as Anthropic.ErrorResponse).error.message;
      const b64 = Buffer.from(KEY).toString('base64');
      const hex = Buffer.from(KEY).toString('hex');
      for (const form of [KEY, b64, hex, 'trace-secret']) expect(message).toContain(form);
      expect(err.headers!.get('x-echo')).toContain(KEY);
      expect(fake.requests[0]!.echoed).toEqual([KEY, b64, hex, 'trace-secret', Buffer.from('trace-secret').toString('base64'), Buffer.from('trace-secret').toString('hex')]);
    });

    it('echoes into a mid-stream error too', async () => {
      fake.enqueue({ kind: 'message', streamError: { afterEvents: 1, type: 'api_error', message: 'boom' }, echo: { forms: ['hex'] } });
      const err = await rejection(client.messages.stream(ask).finalMessage());
      expect(String((err as Error).message)).toContain(Buffer.from(KEY).toString('hex'));
    });

    it('waits before answering a delay, and drops the connection on disconnect', async () => {
      fake.enqueue({ kind: 'delay', ms: 80, then: { kind: 'message', content: 'late' } }, { kind: 'disconnect' });
      const started = Date.now();
      const late = await client.messages.create(ask);
      expect(Date.now() - started).toBeGreaterThanOrEqual(70);
      expect(late.content).toEqual([{ type: 'text', text: 'late', citations: null }]);
      expect(await rejection(client.messages.create(ask))).toBeInstanceOf(Anthropic.APIConnectionError);
    });

    it('answers a scripted model before the global queue, then the default', async () => {
      fake.setDefault({ kind: 'message', content: 'default' });
      fake.enqueue({ kind: 'message', content: 'queued' });
      fake.script('claude-haiku-4-5', { kind: 'message', content: 'scripted' });
      const texts: string[] = [];
      for (const model of ['claude-haiku-4-5', MODEL, MODEL]) {
        const m = await client.messages.create({ ...ask, model });
        texts.push((m.content[0] as Anthropic.TextBlock).text);
      }
      expect(texts).toEqual(['scripted', 'queued', 'default']);
      expect(fake.pending()).toBe(0);
    });
  });

  describe('golden fixtures replayed', () => {
    it('replays the golden JSON messages, which the SDK returns unchanged', async () => {
      for (const message of [golden.textMessage, golden.toolUseMessage, golden.thinkingMessage, golden.cachedMessage]) {
        fake.enqueue(replayAnthropicJson(message));
        expect(await client.messages.create(ask)).toEqual(message);
      }
    });

    it('replays the golden streams, which the SDK accumulates into their text, tool input, thinking and usage', async () => {
      fake.enqueue(replayAnthropicStream(golden.textStream), replayAnthropicStream(golden.toolUseStream), replayAnthropicStream(golden.thinkingStream));
      const text = await client.messages.stream(ask).finalMessage();
      expect(text.content).toEqual([{ type: 'text', text: 'Hé, 日本語 🌍!', citations: null }]);
      expect(text.usage).toMatchObject({ input_tokens: 25, output_tokens: 15, cache_read_input_tokens: 1000 });
      const tool = await client.messages.stream(ask).finalMessage();
      expect(tool.content[1]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { location: 'San Francisco, CA', unit: 'fahrenheit' } });
      expect(tool).toMatchObject({ stop_reason: 'tool_use', usage: { output_tokens: 89 } });
      const thinking = await client.messages.stream(ask).finalMessage();
      expect(thinking.content[0]).toEqual({
        type: 'thinking',
        thinking: 'Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3',
        signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds',
      });
    });

    it('replays the golden mid-stream overload and error bodies as the SDK errors they stand for', async () => {
      fake.enqueue(replayAnthropicStream(golden.overloadedMidStream));
      expect(await rejection(client.messages.stream(ask).finalMessage())).toMatchObject({ type: 'overloaded_error' });
      const statuses: [unknown, number, abstract new (...args: never[]) => Error][] = [
        [golden.errors.authentication, 401, Anthropic.AuthenticationError],
        [golden.errors.rateLimited, 429, Anthropic.RateLimitError],
        [golden.errors.overloaded, 529, Anthropic.OverloadedError],
        [golden.errors.promptTooLong, 400, Anthropic.BadRequestError],
      ];
      for (const [body, status, errorClass] of statuses) {
        fake.enqueue(replayAnthropicJson(body, status));
        const err = await rejection(client.messages.create(ask));
        expect({ status, isClass: err instanceof errorClass, error: (err as APIErr).error }).toEqual({ status, isClass: true, error: body });
      }
    });
  });
});
