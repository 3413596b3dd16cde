import type OpenAI from 'openai';
import { base64FromFloats, type CallTarget, type CanonicalStreamPart, type ChatOperation, type ChatRequest } from '#libs/adapter-sdk';
import { CHUNK_SPLITS, decodeInChunks, utf8 } from '../../../adapter-sdk/src/testing/chunk-splits.js';
import { openAIAdapterV2, openAICompatibleAdapterV2 } from './openai-compatible-v2.adapter.js';

const chat = openAICompatibleAdapterV2.chat as ChatOperation;
const target: CallTarget = { baseUrl: 'http://127.0.0.1:8000/v1/', upstreamModel: 'qwen3-8b', settings: {}, secrets: { apiKey: 'sk-up' } };
const request: ChatRequest = { model: 'gw-model', stream: true, includeUsage: false, maxOutputTokens: 50, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] };

const chunk = (c: Omit<OpenAI.Chat.Completions.ChatCompletionChunk, 'id' | 'object' | 'created' | 'model'>): OpenAI.Chat.Completions.ChatCompletionChunk => ({
  id: 'chatcmpl-Bx1',
  object: 'chat.completion.chunk',
  created: 1_765_000_000,
  model: 'gpt-4.1-2025-04-14',
  ...c,
});

/** A streamed answer with two parallel tool calls, cached prompt tokens and reasoning tokens, shaped like OpenAI's. */
const toolStream = [
  chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: null }, finish_reason: null, logprobs: null }], usage: null }),
  chunk({
    choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, finish_reason: null }],
  }),
  chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, finish_reason: null }] }),
  chunk({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"Zürich"}' } }] }, finish_reason: null }] }),
  chunk({
    choices: [{ index: 0, delta: { tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } }] }, finish_reason: null }],
  }),
  chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }),
  chunk({
    choices: [],
    usage: {
      prompt_tokens: 2_006,
      completion_tokens: 300,
      total_tokens: 2_306,
      prompt_tokens_details: { cached_tokens: 1_920, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 256, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    },
  }),
] satisfies OpenAI.Chat.Completions.ChatCompletionChunk[];

const sse = (chunks: readonly unknown[], done = true): Uint8Array => utf8(chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + (done ? 'data: [DONE]\n\n' : ''));

describe('openai-compatible adapter v2: requests', () => {
  it('always asks a stream for its usage, whatever the client asked, at the connection base URL with its key', async () => {
    const { request: built, warnings } = await chat.buildRequest(request, target);
    expect(built).toMatchObject({ url: 'http://127.0.0.1:8000/v1/chat/completions', method: 'POST', headers: { authorization: 'Bearer sk-up', 'content-type': 'application/json' } });
    expect(JSON.parse(built.body ?? '')).toEqual({
      model: 'qwen3-8b',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 50,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(warnings).toEqual([]);
  });

  it('sends no Authorization header to a self-hosted server without a key', async () => {
    const { request: built } = await chat.buildRequest(request, { ...target, secrets: {} });
    expect(built.headers.authorization).toBeUndefined();
  });

  it('openai uses its own endpoint, max_completion_tokens and the organization header', async () => {
    const { request: built } = await (openAIAdapterV2.chat as ChatOperation).buildRequest(request, {
      upstreamModel: 'gpt-5',
      settings: { organization: 'org-1' },
      secrets: { apiKey: 'sk-live' },
    });
    expect(built.url).toBe('https://api.openai.com/v1/chat/completions');
    expect(built.headers['openai-organization']).toBe('org-1');
    expect(JSON.parse(built.body ?? '')).toMatchObject({ max_completion_tokens: 50 });
    expect(JSON.parse(built.body ?? '')).not.toHaveProperty('max_tokens');
  });

  it('warns about what OpenAI cannot take instead of dropping it silently', async () => {
    const { warnings } = await chat.buildRequest(
      {
        ...request,
        topK: 40,
        reasoning: { budgetTokens: 2000 },
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', providerOptions: { anthropic: { cache_control: { type: 'ephemeral' } } } }] }],
      },
      target,
    );
    expect(warnings.map((w) => (w.type === 'unsupported-setting' ? w.setting : w.message))).toEqual(['messages[].content[].cache_control', 'top_k', 'thinking.budget_tokens']);
  });

  it('passes an OpenAI client body through but for the model and the stream usage it always asks', async () => {
    const body = { model: 'gw-model', messages: [{ role: 'user', content: 'hi' }], logit_bias: { '1': 5 }, stream: true, stream_options: { include_obfuscation: false } };
    const { request: built } = await chat.buildNativeRequest!(body, target);
    expect(built.url).toBe('http://127.0.0.1:8000/v1/chat/completions');
    expect(JSON.parse(built.body ?? '')).toEqual({ ...body, model: 'qwen3-8b', stream_options: { include_obfuscation: false, include_usage: true } });
    const embed = await openAICompatibleAdapterV2.embedding!.buildNativeRequest!({ model: 'gw', input: 'x', encoding_format: 'base64' }, target);
    expect(JSON.parse(embed.request.body ?? '')).toEqual({ model: 'qwen3-8b', input: 'x', encoding_format: 'base64' });
  });

  it('builds one headers object per connection while its headers, secrets and settings are the same objects, and a new one when any changes', async () => {
    const headers = { 'x-team': 'a' };
    const secrets = { apiKey: 'sk-1' };
    const settings = {};
    const fixed: CallTarget = { baseUrl: 'http://127.0.0.1:8000/v1', upstreamModel: 'm', settings, secrets, headers };
    const first = (await chat.buildNativeRequest!({ model: 'gw', messages: [] }, fixed)).request;
    const second = (await chat.buildNativeRequest!({ model: 'gw', messages: [] }, { ...fixed })).request;
    expect(second.headers).toBe(first.headers); // the fast path: the same frozen object
    expect(second.url).toBe(first.url);
    expect(Object.isFrozen(first.headers)).toBe(true);
    expect(first.headers).toEqual({ 'x-team': 'a', 'content-type': 'application/json', authorization: 'Bearer sk-1' });
    const rotated = (await chat.buildNativeRequest!({ model: 'gw', messages: [] }, { ...fixed, secrets: { apiKey: 'sk-2' } })).request;
    expect(rotated.headers).toEqual({ 'x-team': 'a', 'content-type': 'application/json', authorization: 'Bearer sk-2' });
    const byHeader = (await chat.buildNativeRequest!({ model: 'gw', messages: [] }, { ...fixed, settings: { authMode: 'header', authHeader: 'X-Api-Key' } })).request;
    expect(byHeader.headers).toEqual({ 'x-team': 'a', 'content-type': 'application/json', 'x-api-key': 'sk-1' });
    const moved = (await chat.buildNativeRequest!({ model: 'gw', messages: [] }, { ...fixed, baseUrl: 'http://127.0.0.1:9000/v1/' })).request;
    expect(moved.url).toBe('http://127.0.0.1:9000/v1/chat/completions');
  });

  it('requires a base URL for openai-compatible but not for openai', () => {
    expect(openAICompatibleAdapterV2.validateSettings({})).toEqual({ errors: [{ field: 'baseUrl', message: 'is required' }] });
    expect(openAIAdapterV2.validateSettings({ apiKey: 'sk-1' })).toEqual({ value: { settings: { baseUrl: 'https://api.openai.com/v1' }, secrets: { apiKey: 'sk-1' } } });
  });
});

describe('openai and openai-compatible adapters v2: connection settings', () => {
  it('openai sends organization and project as OpenAI-Organization and OpenAI-Project, and refuses ids of another shape', async () => {
    const { request: built } = await (openAIAdapterV2.chat as ChatOperation).buildRequest(request, {
      upstreamModel: 'gpt-5',
      settings: { organization: 'org-AbC1', project: 'proj_Xy9' },
      secrets: { apiKey: 'sk-live' },
    });
    expect(built.headers).toMatchObject({ 'openai-organization': 'org-AbC1', 'openai-project': 'proj_Xy9', authorization: 'Bearer sk-live' });
    expect(openAIAdapterV2.validateSettings({ apiKey: 'k', organization: 'acme', project: 'proj-1' })).toEqual({
      errors: [
        { field: 'organization', message: 'is not a valid value (expected e.g. org-AbC123)' },
        { field: 'project', message: 'is not a valid value (expected e.g. proj_AbC123)' },
      ],
    });
    expect(openAIAdapterV2.validateSettings({ organization: 'org-1' })).toEqual({ errors: [{ field: 'apiKey', message: 'is required' }] });
    expect(openAIAdapterV2.validateSettings({ apiKey: 'k', baseUrl: 'ftp://x' })).toEqual({ errors: [{ field: 'baseUrl', message: 'must be an http or https URL' }] });
  });

  it('openai-compatible sends the key as a bearer by default, in a header of the connection\'s choosing, or not at all', async () => {
    const checked = openAICompatibleAdapterV2.validateSettings({ baseUrl: 'http://litellm:4000/v1', apiKey: 'k1', authMode: 'header', authHeader: 'X-API-Key' });
    expect(checked).toEqual({ value: { settings: { baseUrl: 'http://litellm:4000/v1', authMode: 'header', authHeader: 'X-API-Key' }, secrets: { apiKey: 'k1' } } });
    const viaHeader = await chat.buildRequest(request, { ...target, settings: { authMode: 'header', authHeader: 'X-API-Key' }, secrets: { apiKey: 'k1' } });
    expect(viaHeader.request.headers['x-api-key']).toBe('k1');
    expect(viaHeader.request.headers.authorization).toBeUndefined();
    const bearer = await chat.buildRequest(request, { ...target, settings: { authMode: 'bearer' }, secrets: { apiKey: 'k1' } });
    expect(bearer.request.headers.authorization).toBe('Bearer k1');
    const none = await chat.buildRequest(request, { ...target, settings: { authMode: 'none' }, secrets: {} });
    expect(Object.keys(none.request.headers)).toEqual(['content-type']);
  });

  it.each([
    [{ authMode: 'header', apiKey: 'k' }, 'authHeader', 'is required with authMode header'],
    [{ authMode: 'header', authHeader: 'X API Key', apiKey: 'k' }, 'authHeader', 'must be an HTTP header name'],
    [{ authMode: 'header', authHeader: 'Content-Type', apiKey: 'k' }, 'authHeader', 'the gateway sets it itself'],
    [{ authMode: 'header', authHeader: 'X-API-Key' }, 'apiKey', 'is required with authMode header'],
    [{ authHeader: 'X-API-Key', apiKey: 'k' }, 'authHeader', 'is only used with authMode header'],
    [{ authMode: 'none', apiKey: 'k' }, 'apiKey', 'must be left out with authMode none'],
    [{ authMode: 'basic', apiKey: 'k' }, 'authMode', 'must be one of bearer, header, none'],
  ])('openai-compatible refuses %j naming %s', (input, field, message) => {
    const checked = openAICompatibleAdapterV2.validateSettings({ baseUrl: 'http://vllm:8000/v1', ...input });
    expect('errors' in checked && checked.errors).toEqual([{ field, message: expect.stringContaining(message) }]);
  });
});

describe('openai-compatible adapter v2: answers and streams', () => {
  it('reads a whole answer with tool calls, cached and reasoning tokens', () => {
    const body = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_765_000_000,
      model: 'o4-mini',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 100, completion_tokens: 40, total_tokens: 140, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 30 } },
    } satisfies OpenAI.Chat.Completions.ChatCompletion;
    expect(chat.parseResponse(utf8(JSON.stringify(body)))).toEqual({
      value: {
        id: 'chatcmpl-1',
        model: 'o4-mini',
        created: 1_765_000_000,
        choices: [{ index: 0, content: [{ type: 'tool-call', toolCallId: 'call_1', toolName: 'f', input: '{"a":1}' }], finishReason: 'tool-calls', rawFinishReason: 'tool_calls' }],
        usage: { input: { total: 100, noCache: 36, cacheRead: 64, cacheWrite: 0 }, output: { total: 40, text: 10, reasoning: 30 }, extra: {} },
      },
    });
  });

  it('decodes tool-call deltas, the finish and the usage chunk', () => {
    expect(decodeInChunks(() => chat.createStreamDecoder(), sse(toolStream), 1e9)).toEqual([
      { type: 'response-metadata', id: 'chatcmpl-Bx1', model: 'gpt-4.1-2025-04-14', created: 1_765_000_000 },
      { type: 'tool-call-start', choice: 0, index: 0, id: 'call_a', name: 'get_weather' },
      { type: 'tool-call-delta', choice: 0, index: 0, inputDelta: '{"city":' },
      { type: 'tool-call-delta', choice: 0, index: 0, inputDelta: '"Zürich"}' },
      { type: 'tool-call-start', choice: 0, index: 1, id: 'call_b', name: 'get_time' },
      { type: 'tool-call-delta', choice: 0, index: 1, inputDelta: '{"tz":"CET"}' },
      { type: 'finish', choice: 0, reason: 'tool-calls', rawReason: 'tool_calls' },
      { type: 'usage', usage: { input: { total: 2_006, noCache: 86, cacheRead: 1_920, cacheWrite: 0 }, output: { total: 300, text: 44, reasoning: 256 }, extra: {} } },
    ]);
  });

  it.each(CHUNK_SPLITS)('gives the same parts whatever the chunking ($name)', ({ size }) => {
    expect(decodeInChunks(() => chat.createStreamDecoder(), sse(toolStream), size)).toEqual(decodeInChunks(() => chat.createStreamDecoder(), sse(toolStream), 1e9));
  });

  it('keeps each choice apart when the client asked for two (n=2)', () => {
    const parts = decodeInChunks(
      () => chat.createStreamDecoder(),
      sse([
        chunk({ choices: [{ index: 0, delta: { content: 'A' }, finish_reason: null }] }),
        chunk({ choices: [{ index: 1, delta: { content: 'B' }, finish_reason: null }] }),
        chunk({ choices: [{ index: 1, delta: {}, finish_reason: 'length' }] }),
      ]),
      3,
    );
    expect(parts.filter((p) => p.type !== 'response-metadata')).toEqual([
      { type: 'text-delta', choice: 0, text: 'A' },
      { type: 'text-delta', choice: 1, text: 'B' },
      { type: 'finish', choice: 1, reason: 'length', rawReason: 'length' },
    ]);
  });

  it('reports a stream without [DONE], a malformed chunk and an error chunk as error parts', () => {
    const last = (bytes: Uint8Array): CanonicalStreamPart | undefined => decodeInChunks(() => chat.createStreamDecoder(), bytes, 5).at(-1);
    expect(last(sse(toolStream.slice(0, 3), false))).toEqual({ type: 'error', error: { kind: 'upstream_error', message: 'the upstream stream ended before [DONE]', retryable: true } });
    expect(last(utf8('data: {"id":"x","choices":{"0":1}}\n\ndata: [DONE]\n\n'))).toMatchObject({ type: 'error', error: { message: expect.stringContaining('choices is not an array') } });
    expect(last(utf8('data: {"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}\n\n'))).toEqual({
      type: 'error',
      error: { kind: 'rate_limited', message: 'Rate limit reached', retryable: true },
    });
  });

  it('in metering-only mode skips content chunks but keeps the first, the finish and the usage', () => {
    const parts = decodeInChunks(() => chat.createStreamDecoder({ meteringOnly: true }), sse(toolStream), 4);
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'finish', 'usage']);
  });
});

describe('openai-compatible adapter v2: errors', () => {
  const map = (status: number, body: unknown, headers: Record<string, string> = {}) => openAICompatibleAdapterV2.mapError(status, utf8(JSON.stringify(body)), headers);

  it('maps a provider 401 to auth (the connection key, not the caller key, is wrong)', () => {
    expect(map(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key', param: null } })).toMatchObject({
      kind: 'auth',
      retryable: false,
    });
  });

  it('maps 429 with retry-after-ms and 400 context_length_exceeded', () => {
    expect(map(429, { error: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded', param: null } }, { 'retry-after-ms': '1500' })).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 1500,
      retryable: true,
    });
    expect(map(400, { error: { message: 'too long', type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages' } })).toMatchObject({
      kind: 'context_length',
      retryable: false,
    });
  });
});

describe('openai-compatible adapter v2: quota', () => {
  it('does not call an exhausted quota retryable, although OpenAI answers it with 429', () => {
    const err = openAICompatibleAdapterV2.mapError(
      429,
      utf8(JSON.stringify({ error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota', param: null } })),
      {},
    );
    expect(err).toMatchObject({ kind: 'rate_limited', retryable: false });
  });
});

describe('openai-compatible adapter v2: completions and embeddings', () => {
  it('builds a completions request that asks for stream usage and decodes its stream', async () => {
    const op = openAICompatibleAdapterV2.completion!;
    const { request: built } = await op.buildRequest({ model: 'gw', prompt: 'Once', stream: true, includeUsage: false, maxOutputTokens: 5 }, target);
    expect(built.url).toBe('http://127.0.0.1:8000/v1/completions');
    expect(JSON.parse(built.body ?? '')).toEqual({ model: 'qwen3-8b', prompt: 'Once', max_tokens: 5, stream: true, stream_options: { include_usage: true } });
    const stream = sse([
      { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'qwen3-8b', choices: [{ index: 0, text: ' upon', finish_reason: null, logprobs: null }] },
      { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'qwen3-8b', choices: [{ index: 0, text: '', finish_reason: 'length', logprobs: null }] },
      { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'qwen3-8b', choices: [], usage: { prompt_tokens: 1, completion_tokens: 5, total_tokens: 6 } },
    ]);
    expect(decodeInChunks(() => op.createStreamDecoder(), stream, 2).map((p) => p.type)).toEqual(['response-metadata', 'text-delta', 'finish', 'usage']);
  });

  it('asks embeddings as floats and reads base64 vectors too, in input order', async () => {
    const op = openAICompatibleAdapterV2.embedding!;
    const { request: built } = await op.buildRequest({ model: 'gw', input: ['a', 'b'], dimensions: 2, providerOptions: { openai: { encoding_format: 'base64' } } }, target);
    expect(JSON.parse(built.body ?? '')).toEqual({ model: 'qwen3-8b', input: ['a', 'b'], encoding_format: 'float', dimensions: 2 });
    const body = {
      object: 'list',
      model: 'text-embedding-3-small',
      data: [
        { object: 'embedding', index: 1, embedding: base64FromFloats([0.5, -2]) },
        { object: 'embedding', index: 0, embedding: [0.25, 1] },
      ],
      usage: { prompt_tokens: 2, total_tokens: 2 },
    };
    expect(op.parseResponse(utf8(JSON.stringify(body)))).toEqual({
      value: {
        model: 'text-embedding-3-small',
        embeddings: [
          [0.25, 1],
          [0.5, -2],
        ],
        usage: { input: { total: 2, noCache: 2, cacheRead: 0, cacheWrite: 0 }, output: { total: 0, text: 0, reasoning: 0 }, extra: {} },
      },
    });
  });
});
