import Anthropic from '@anthropic-ai/sdk';
import type { CallTarget, CanonicalStreamPart, ChatOperation, ChatRequest } from '#libs/adapter-sdk';
import { CHUNK_SPLITS, decodeInChunks, utf8 } from '../../../adapter-sdk/src/testing/chunk-splits.js';
import {
  cachedMessage,
  errors,
  overloadedMidStream,
  textMessage,
  textStream,
  thinkingMessage,
  thinkingStream,
  toolUseMessage,
  toolUseStream,
  toSse,
  type StreamEvent,
} from '../../../../test/fixtures/anthropic/messages-fixtures.js';
import { anthropicAdapter } from './anthropic.adapter.js';

const chat = anthropicAdapter.chat as ChatOperation;
const json = (v: unknown): Uint8Array => utf8(JSON.stringify(v));

function parse(body: unknown) {
  const decoded = chat.parseResponse(json(body));
  if ('error' in decoded) throw new Error(`expected a response, got ${decoded.error.message}`);
  return decoded.value;
}

/** An SDK client whose only upstream is this answer: the provider's own client reads our fixtures. */
function sdkAnswering(status: number, body: string, contentType: string, headers: Record<string, string> = {}): Anthropic {
  return new Anthropic({
    apiKey: 'sk-ant-test',
    maxRetries: 0,
    fetch: async () => new Response(body, { status, headers: { 'content-type': contentType, ...headers } }),
  });
}

const target: CallTarget = { upstreamModel: 'claude-sonnet-4-5', settings: {}, secrets: { apiKey: 'sk-ant-secret' } };

describe('anthropic adapter: whole answers', () => {
  it('the SDK accepts the golden messages as they are (they are not shapes only we believe in)', async () => {
    for (const m of [textMessage, toolUseMessage, thinkingMessage, cachedMessage]) {
      const got = await sdkAnswering(200, JSON.stringify(m), 'application/json').messages.create({ model: m.model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      expect(got.id).toBe(m.id);
      expect(got.content).toEqual(m.content);
    }
  });

  it('reads a text answer into one choice that stopped, with its usage', () => {
    const res = parse(textMessage);
    expect(res).toEqual({
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      model: 'claude-sonnet-4-5-20250929',
      choices: [{ index: 0, content: [{ type: 'text', text: 'Bonjour ! Ça va très bien, merci. 🌍' }], finishReason: 'stop', rawFinishReason: 'end_turn' }],
      usage: { input: { total: 12, noCache: 12, cacheRead: 0, cacheWrite: 0 }, output: { total: 17, text: 17, reasoning: 0 }, extra: {} },
    });
  });

  it('reads tool use as a tool call whose input is JSON text, finishing with tool-calls', () => {
    const choice = parse(toolUseMessage).choices[0];
    expect(choice.finishReason).toBe('tool-calls');
    expect(choice.content).toEqual([
      { type: 'text', text: 'I will look up the weather in Paris.' },
      { type: 'tool-call', toolCallId: 'toolu_01A09q90qw90lq917835lq9', toolName: 'get_weather', input: '{"location":"Paris, FR","unit":"celsius"}' },
    ]);
  });

  it('keeps thinking with its signature and redacted thinking, and splits reasoning out of the output tokens', () => {
    const res = parse(thinkingMessage);
    expect(res.choices[0].content).toEqual([
      { type: 'reasoning', text: 'The user asks for 27 * 453. 27 * 453 = 12231.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' },
      { type: 'redacted-reasoning', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP' },
      { type: 'text', text: '27 × 453 = 12,231' },
    ]);
    expect(res.usage?.output).toEqual({ total: 310, text: 20, reasoning: 290 });
  });

  it('counts cache reads and writes inside the input total (Anthropic reports them beside input_tokens)', () => {
    const res = parse(cachedMessage);
    expect(res.usage).toEqual({
      input: { total: 21 + 188_086 + 2_048, noCache: 21, cacheRead: 188_086, cacheWrite: 2_048 },
      output: { total: 393, text: 393, reasoning: 0 },
      extra: { cache_write_5m: 2_048, web_search_requests: 1 },
    });
    expect(res.choices[0]).toMatchObject({ finishReason: 'stop', rawFinishReason: 'stop_sequence', stopSequence: '\n\nHuman:' });
  });

  it('answers an error, not an exception, for a body that is not a message', () => {
    for (const body of [utf8('<html>502 Bad Gateway</html>'), json({ type: 'message', content: [{ type: 'text', text: 5 }] }), json([])]) {
      const decoded = chat.parseResponse(body);
      expect('error' in decoded && decoded.error.kind).toBe('upstream_error');
    }
  });
});

function decodeStream(events: readonly StreamEvent[], size = Number.MAX_SAFE_INTEGER, meteringOnly = false): CanonicalStreamPart[] {
  return decodeInChunks(() => chat.createStreamDecoder({ meteringOnly }), utf8(toSse(events)), size);
}

describe('anthropic adapter: streams', () => {
  it('the SDK reads the golden transcripts into the messages they describe', async () => {
    const final = await sdkAnswering(200, toSse(toolUseStream), 'text/event-stream')
      .messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'weather?' }] })
      .finalMessage();
    expect(final.content[1]).toMatchObject({ type: 'tool_use', input: { location: 'San Francisco, CA', unit: 'fahrenheit' } });
    expect(final.usage.output_tokens).toBe(89);
  });

  it('decodes text with a ping into metadata, deltas, finish and cumulative usage', () => {
    expect(decodeStream(textStream)).toEqual([
      { type: 'response-metadata', id: 'msg_01StreamText', model: 'claude-sonnet-4-5-20250929' },
      { type: 'usage', usage: { input: { total: 1_025, noCache: 25, cacheRead: 1_000, cacheWrite: 0 }, output: { total: 1, text: 1, reasoning: 0 }, extra: {} } },
      { type: 'text-delta', choice: 0, text: 'Hé, ' },
      { type: 'text-delta', choice: 0, text: '日本語 🌍!' },
      { type: 'finish', choice: 0, reason: 'stop', rawReason: 'end_turn' },
      // output_tokens in message_delta is the running total, not an increment: 15, not 16.
      { type: 'usage', usage: { input: { total: 1_025, noCache: 25, cacheRead: 1_000, cacheWrite: 0 }, output: { total: 15, text: 15, reasoning: 0 }, extra: {} } },
    ]);
  });

  it.each(CHUNK_SPLITS)('gives the same parts whatever the chunking ($name, cutting UTF-8 characters too)', ({ size }) => {
    for (const transcript of [textStream, toolUseStream, thinkingStream, overloadedMidStream]) {
      expect(decodeStream(transcript, size)).toEqual(decodeStream(transcript));
    }
  });

  it('decodes tool input deltas into one tool call whose pieces join into the JSON arguments', () => {
    const parts = decodeStream(toolUseStream);
    expect(parts.filter((p) => p.type === 'tool-call-start')).toEqual([{ type: 'tool-call-start', choice: 0, index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather' }]);
    const args = parts.flatMap((p) => (p.type === 'tool-call-delta' ? [p.inputDelta] : [])).join('');
    expect(JSON.parse(args)).toEqual({ location: 'San Francisco, CA', unit: 'fahrenheit' });
    expect(parts.find((p) => p.type === 'finish')).toEqual({ type: 'finish', choice: 0, reason: 'tool-calls', rawReason: 'tool_use' });
    expect(parts.filter((p) => p.type === 'usage').at(-1)).toMatchObject({ usage: { input: { total: 472 }, output: { total: 89 } } });
  });

  it('decodes thinking deltas, the signature and the thinking token count', () => {
    const parts = decodeStream(thinkingStream);
    const reasoning = parts.flatMap((p) => (p.type === 'reasoning-delta' ? [p.text] : [])).join('');
    expect(reasoning).toBe('Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3');
    expect(parts).toContainEqual({ type: 'reasoning-signature', choice: 0, signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' });
    expect(parts.filter((p) => p.type === 'usage').at(-1)).toMatchObject({ usage: { output: { total: 285, text: 15, reasoning: 270 } } });
  });

  it('turns an overloaded_error event into a final, retryable error part after the usage seen so far', () => {
    const parts = decodeStream(overloadedMidStream);
    expect(parts.at(-1)).toEqual({ type: 'error', error: { kind: 'overloaded', message: 'Overloaded', retryable: true } });
    expect(parts.filter((p) => p.type === 'error')).toHaveLength(1);
    expect(parts).toContainEqual({ type: 'text-delta', choice: 0, text: 'Once upon' });
    expect(parts.find((p) => p.type === 'usage')).toMatchObject({ usage: { input: { total: 30 } } });
  });

  it.each([
    ['invalid JSON', 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,\n\n'],
    ['a text delta that is not a string', 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}}\n\n'],
    ['input JSON for a block that is not a tool', 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{"}}\n\n'],
    ['binary noise', '\u0000\u00ff\u00fe garbage \n\n'],
  ])('makes %s an error part, never an exception, and reads nothing after it', (_name, bad) => {
    const good = toSse(textStream.slice(0, 2));
    const decoder = chat.createStreamDecoder();
    let parts: CanonicalStreamPart[] = [];
    expect(() => {
      parts = [...decoder.push(utf8(good)), ...decoder.push(utf8(bad)), ...decoder.push(utf8(toSse(textStream.slice(2)))), ...decoder.end()];
    }).not.toThrow();
    expect(parts.filter((p) => p.type === 'error')).toHaveLength(1);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { kind: 'upstream_error', retryable: true } });
    expect(parts.some((p) => p.type === 'finish')).toBe(false);
  });

  it('reports a stream that ends before message_stop', () => {
    const parts = decodeStream(textStream.slice(0, -1));
    expect(parts.at(-1)).toEqual({ type: 'error', error: { kind: 'upstream_error', message: 'the upstream stream ended before message_stop', retryable: true } });
  });

  it('in metering-only mode yields what metering needs and skips the content', () => {
    const parts = decodeStream(toolUseStream, 5, true);
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'usage', 'tool-call-start', 'finish', 'usage']);
    expect(parts.at(-1)).toEqual(decodeStream(toolUseStream).at(-1));
  });
});

describe('anthropic adapter: errors', () => {
  const status = (s: number, body: unknown, headers: Record<string, string> = {}) => anthropicAdapter.mapError(s, typeof body === 'string' ? utf8(body) : json(body), headers);

  it('maps 401 authentication_error to auth, not retryable', () => {
    expect(status(401, errors.authentication)).toEqual({ kind: 'auth', message: 'invalid x-api-key', retryable: false, status: 401 });
  });

  it('maps 429 to rate_limited with the retry-after delay', () => {
    expect(status(429, errors.rateLimited, { 'retry-after': '30' })).toMatchObject({ kind: 'rate_limited', retryable: true, retryAfterMs: 30_000 });
  });

  it('maps 529 overloaded_error to overloaded, retryable', () => {
    expect(status(529, errors.overloaded)).toMatchObject({ kind: 'overloaded', retryable: true, message: 'Overloaded' });
  });

  it('maps 400 "prompt is too long" to context_length and other 400s to bad_request', () => {
    expect(status(400, errors.promptTooLong)).toMatchObject({ kind: 'context_length', retryable: false });
    expect(status(400, errors.badRequest)).toMatchObject({ kind: 'bad_request', retryable: false });
  });

  it('maps a 502 page from a proxy to a retryable upstream_error', () => {
    expect(status(502, '<html>bad gateway</html>')).toMatchObject({ kind: 'upstream_error', retryable: true, message: 'upstream answered HTTP 502' });
  });

  it('classifies each error body as the SDK does', async () => {
    const cases: Array<[number, unknown, string]> = [
      [401, errors.authentication, 'AuthenticationError'],
      [429, errors.rateLimited, 'RateLimitError'],
      [400, errors.promptTooLong, 'BadRequestError'],
    ];
    for (const [s, body, sdkClass] of cases) {
      const err = await sdkAnswering(s, JSON.stringify(body), 'application/json')
        .messages.create({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect((err as Error).constructor.name).toBe(sdkClass);
      expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(s);
    }
  });
});

describe('anthropic adapter: requests', () => {
  const request: ChatRequest = {
    model: 'claude',
    stream: true,
    includeUsage: false,
    seed: 7,
    temperature: 1.5,
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
    ],
  };

  it('builds a messages call with x-api-key, anthropic-version and the required max_tokens', async () => {
    const { request: built, warnings } = await chat.buildRequest(request, { ...target, headers: { 'x-team': 'a' } });
    expect(built.url).toBe('https://api.anthropic.com/v1/messages');
    expect(built.headers).toEqual({ 'x-team': 'a', 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-secret' });
    expect(JSON.parse(built.body ?? '')).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather?' }] }],
      temperature: 1,
      stream: true,
    });
    expect(warnings).toEqual([
      { type: 'unsupported-setting', setting: 'temperature', details: "1.5 is above Anthropic's maximum of 1; sent as 1" },
      { type: 'unsupported-setting', setting: 'seed' },
    ]);
  });

  it('uses the connection settings: base URL with /v1, version, beta and default max tokens', async () => {
    const { request: built } = await chat.buildRequest(request, {
      ...target,
      settings: { baseUrl: 'http://127.0.0.1:9/v1/', anthropicVersion: '2024-01-01', anthropicBeta: 'prompt-caching-2024-07-31', defaultMaxTokens: 512 },
    });
    expect(built.url).toBe('http://127.0.0.1:9/v1/messages');
    expect(built.headers).toMatchObject({ 'anthropic-version': '2024-01-01', 'anthropic-beta': 'prompt-caching-2024-07-31' });
    expect(JSON.parse(built.body ?? '').max_tokens).toBe(512);
  });

  it('passes an Anthropic client body through untouched but for the model, with its version and betas', async () => {
    const body = {
      model: 'gw-claude',
      max_tokens: 1024,
      system: [{ type: 'text', text: 'Agent.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } }, { type: 'text', text: 'Summarise.' }] }],
      tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 2 }],
      thinking: { type: 'enabled', budget_tokens: 2048 },
      stream: true,
    } satisfies Anthropic.MessageCreateParamsStreaming;
    const { request: built, warnings } = await chat.buildNativeRequest!(
      body,
      { ...target, settings: { anthropicBeta: 'context-1m-2025-08-07' } },
      { clientHeaders: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'interleaved-thinking-2025-05-14,context-1m-2025-08-07' } },
    );
    expect(JSON.parse(built.body ?? '')).toEqual({ ...body, model: 'claude-sonnet-4-5' });
    expect(built.headers).toMatchObject({ 'x-api-key': 'sk-ant-secret', 'anthropic-version': '2023-06-01', 'anthropic-beta': 'context-1m-2025-08-07,interleaved-thinking-2025-05-14' });
    expect(warnings).toEqual([]);
  });

  it('declares its settings so the vault can refuse a connection without a key and fill defaults', () => {
    expect(anthropicAdapter.validateSettings({ baseUrl: 'ftp://x' })).toEqual({
      errors: [
        { field: 'apiKey', message: 'is required' },
        { field: 'baseUrl', message: 'must be an http or https URL' },
      ],
    });
    expect(anthropicAdapter.validateSettings({ apiKey: 'sk-ant-1' })).toEqual({
      value: { secrets: { apiKey: 'sk-ant-1' }, settings: { baseUrl: 'https://api.anthropic.com', anthropicVersion: '2023-06-01', defaultMaxTokens: 4096 } },
    });
  });
});
