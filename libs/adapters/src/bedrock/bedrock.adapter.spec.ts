import { chatRequestFromAnthropic, InvalidClientRequest, type CallTarget, type CanonicalStreamPart, type ChatOperation, type ChatRequest, type EmbeddingOperation } from '#libs/adapter-sdk';
import { CHUNK_SPLITS, decodeInChunks, mergeDeltas, utf8 } from '../../../adapter-sdk/src/testing/chunk-splits.js';
import { bedrockEvent, bedrockException, converseResponse, converseStreamEvents } from '../../../../test/support/fake-upstream/bedrock-wire.js';
import { bedrockAdapter } from './bedrock.adapter.js';

const chat = bedrockAdapter.chat as ChatOperation;
const embedding = bedrockAdapter.embedding as EmbeddingOperation;
const json = (v: unknown): Uint8Array => utf8(JSON.stringify(v));
const concat = (frames: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
};

const target: CallTarget = {
  upstreamModel: 'anthropic.claude-3-5-haiku-20241022-v1:0',
  settings: { region: 'eu-west-3', cohereInputType: 'search_document' },
  secrets: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret' },
};

const hello: ChatRequest = { model: 'haiku', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], stream: false, includeUsage: false };

describe('bedrock adapter: settings', () => {
  it('requires the region and the access key, naming each missing field', () => {
    expect(bedrockAdapter.validateSettings({})).toEqual({
      errors: [
        { field: 'region', message: 'is required' },
        { field: 'accessKeyId', message: 'is required' },
        { field: 'secretAccessKey', message: 'is required' },
      ],
    });
  });

  it('refuses a malformed region or access key id, naming the field', () => {
    const got = bedrockAdapter.validateSettings({ region: 'Paris', accessKeyId: 'akia-lower', secretAccessKey: 's' });
    expect(got).toEqual({
      errors: [
        { field: 'region', message: 'must be an AWS region name such as us-east-1' },
        { field: 'accessKeyId', message: 'must be an AWS access key id (16 to 128 upper-case letters and digits, e.g. AKIA...)' },
      ],
    });
    expect(bedrockAdapter.validateSettings({ region: 'us-east-1', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's', baseUrl: 'ftp://x' })).toEqual({
      errors: [{ field: 'baseUrl', message: 'must be an http or https URL' }],
    });
  });

  it('keeps the secrets apart from the settings, the session token optional', () => {
    expect(bedrockAdapter.validateSettings({ region: 'us-gov-west-1', accessKeyId: 'ASIAIOSFODNN7EXAMPLE', secretAccessKey: 's', sessionToken: 't' })).toEqual({
      value: { settings: { region: 'us-gov-west-1', cohereInputType: 'search_document' }, secrets: { accessKeyId: 'ASIAIOSFODNN7EXAMPLE', secretAccessKey: 's', sessionToken: 't' } },
    });
  });
});

describe('bedrock adapter: requests', () => {
  it('posts Converse to the region endpoint, the model id encoded, signed with SigV4 for bedrock in the region', async () => {
    const { request } = await chat.buildRequest(hello, target);
    expect(request.url).toBe('https://bedrock-runtime.eu-west-3.amazonaws.com/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse');
    expect(request.method).toBe('POST');
    expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-3\/bedrock\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
    expect(request.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(request.headers['x-amz-security-token']).toBeUndefined();
    expect(JSON.parse(request.body!)).toEqual({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
  });

  it('streams through converse-stream, to the endpoint override, with the session token signed', async () => {
    const { request } = await chat.buildRequest(
      { ...hello, stream: true },
      { ...target, baseUrl: 'http://127.0.0.1:9/', secrets: { ...target.secrets, sessionToken: 'tok' } },
    );
    expect(request.url).toBe('http://127.0.0.1:9/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream');
    expect(request.headers.accept).toBe('application/vnd.amazon.eventstream');
    expect(request.headers['x-amz-security-token']).toBe('tok');
    expect(request.headers.authorization).toContain('x-amz-security-token');
  });

  it('translates system, images, tools, tool history, tool choice and inference settings', async () => {
    const req: ChatRequest = {
      model: 'haiku',
      stream: false,
      includeUsage: false,
      maxOutputTokens: 300,
      temperature: 0.2,
      topP: 0.9,
      stopSequences: ['END'],
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', source: { type: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' } }] },
        { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'call_1', toolName: 'look', input: '{"q":"cat"}' }] },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_1', content: [{ type: 'text', text: 'a cat' }] }] },
      ],
      tools: [{ type: 'function', name: 'look', description: 'Looks', inputSchema: { type: 'object', properties: { q: { type: 'string' } } } }],
      toolChoice: { type: 'tool', toolName: 'look' },
    };
    const { request, warnings } = await chat.buildRequest(req, target);
    expect(JSON.parse(request.body!)).toEqual({
      system: [{ text: 'Be brief.' }],
      messages: [
        { role: 'user', content: [{ text: 'What is this?' }, { image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 'call_1', name: 'look', input: { q: 'cat' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 'call_1', content: [{ text: 'a cat' }] } }] },
      ],
      inferenceConfig: { maxTokens: 300, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
      toolConfig: {
        tools: [{ toolSpec: { name: 'look', description: 'Looks', inputSchema: { json: { type: 'object', properties: { q: { type: 'string' } } } } } }],
        toolChoice: { tool: { name: 'look' } },
      },
    });
    expect(warnings).toEqual([]);
  });

  it('maps required tool choice to any, and honours none by leaving the tools out', async () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', name: 'f', inputSchema: { type: 'object' } }];
    const any = JSON.parse((await chat.buildRequest({ ...hello, tools, toolChoice: { type: 'required' } }, target)).request.body!);
    expect(any.toolConfig.toolChoice).toEqual({ any: {} });
    const none = await chat.buildRequest({ ...hello, tools, toolChoice: { type: 'none' } }, target);
    expect(JSON.parse(none.request.body!).toolConfig).toBeUndefined();
    expect(none.warnings).toEqual([]);
  });

  it('reports what Converse cannot honour as warnings: JSON mode, seed, n, penalties, url images', async () => {
    const { request, warnings } = await chat.buildRequest(
      {
        ...hello,
        responseFormat: { type: 'json' },
        seed: 7,
        choices: 2,
        presencePenalty: 1,
        temperature: 1.5,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] }],
      },
      target,
    );
    expect(warnings.map((w) => (w.type === 'unsupported-setting' ? w.setting : w.message))).toEqual([
      'image_url.url',
      'temperature',
      'seed',
      'presence_penalty',
      'n',
      'response_format.json_object',
    ]);
    const body = JSON.parse(request.body!);
    expect(body.inferenceConfig.temperature).toBe(1);
    expect(body.messages[0].content).toEqual([{ text: 'x' }]);
  });
});

describe('bedrock adapter: prompt caching and reasoning from an Anthropic-format client', () => {
  it('turns cache_control into Converse cache points after the block, the tool and the system prompt; other Anthropic-only fields are reported', async () => {
    const decoded = chatRequestFromAnthropic({
      model: 'claude',
      max_tokens: 100,
      system: [{ type: 'text', text: 'Long instructions.', cache_control: { type: 'ephemeral' } }],
      tools: [{ name: 'f', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'A long document.', cache_control: { type: 'ephemeral' }, citations: { enabled: true } }, { type: 'text', text: 'Question?' }] },
      ],
      thinking: { type: 'enabled', budget_tokens: 2048 },
    });
    if (!('value' in decoded)) throw new Error(JSON.stringify(decoded));
    const { request, warnings } = await chat.buildRequest(decoded.value, target);
    expect(JSON.parse(request.body!)).toEqual({
      system: [{ text: 'Long instructions.' }, { cachePoint: { type: 'default' } }],
      messages: [{ role: 'user', content: [{ text: 'A long document.' }, { cachePoint: { type: 'default' } }, { text: 'Question?' }] }],
      inferenceConfig: { maxTokens: 100 },
      toolConfig: { tools: [{ toolSpec: { name: 'f', inputSchema: { json: { type: 'object' } } } }, { cachePoint: { type: 'default' } }] },
      additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2048 } },
    });
    expect(warnings).toEqual([{ type: 'unsupported-setting', setting: 'content.citations', details: 'an option only anthropic understands' }]);
  });

  it('reads reasoning with its signature, whole and streamed, and sends it back signed', async () => {
    const whole = chat.parseResponse(
      json({ output: { message: { role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: 'Let me think.', signature: 'sig-1' } } }, { text: '42' }] } }, stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 2 } }),
    );
    expect('value' in whole && whole.value.choices[0]!.content).toEqual([{ type: 'reasoning', text: 'Let me think.', signature: 'sig-1' }, { type: 'text', text: '42' }]);
    const stream = concat([
      bedrockEvent('messageStart', { role: 'assistant' }),
      bedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Let me ' } } }),
      bedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: 'think.' } } }),
      bedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'sig-1' } } }),
      bedrockEvent('contentBlockStop', { contentBlockIndex: 0 }),
      bedrockEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { text: '42' } }),
      bedrockEvent('messageStop', { stopReason: 'end_turn' }),
    ]);
    expect(mergeDeltas(decodeInChunks(() => chat.createStreamDecoder(), stream, 11))).toEqual([
      { type: 'response-metadata' },
      { type: 'reasoning-delta', choice: 0, text: 'Let me think.' },
      { type: 'reasoning-signature', choice: 0, signature: 'sig-1' },
      { type: 'text-delta', choice: 0, text: '42' },
      { type: 'finish', choice: 0, reason: 'stop', rawReason: 'end_turn' },
    ]);
    const { request } = await chat.buildRequest(
      { ...hello, messages: [...hello.messages, { role: 'assistant', content: [{ type: 'reasoning', text: 'Let me think.', signature: 'sig-1' }, { type: 'text', text: '42' }] }, { role: 'user', content: [{ type: 'text', text: 'why?' }] }] },
      target,
    );
    expect(JSON.parse(request.body!).messages[1]).toEqual({ role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: 'Let me think.', signature: 'sig-1' } } }, { text: '42' }] });
  });
});

describe('bedrock adapter: whole answers', () => {
  it('reads text, stop reason and usage with cache reads and writes', () => {
    const got = chat.parseResponse(json(converseResponse({ text: 'Bonjour', usage: { inputTokens: 10, outputTokens: 4, cacheReadInputTokens: 100, cacheWriteInputTokens: 20 } }, {})));
    expect(got).toEqual({
      value: {
        choices: [{ index: 0, content: [{ type: 'text', text: 'Bonjour' }], finishReason: 'stop', rawFinishReason: 'end_turn' }],
        usage: { input: { total: 130, noCache: 10, cacheRead: 100, cacheWrite: 20 }, output: { total: 4, text: 4, reasoning: 0 }, extra: {} },
      },
    });
  });

  it('reads tool use as a tool call whose input is JSON text', () => {
    const got = chat.parseResponse(json(converseResponse({ toolUses: [{ toolUseId: 'tu1', name: 'f', input: { a: 1 } }] }, {})));
    expect('value' in got && got.value.choices[0]).toEqual({ index: 0, content: [{ type: 'tool-call', toolCallId: 'tu1', toolName: 'f', input: '{"a":1}' }], finishReason: 'tool-calls', rawFinishReason: 'tool_use' });
  });

  it('maps guardrail and max-token stops', () => {
    const stop = (stopReason: string) => {
      const got = chat.parseResponse(json(converseResponse({ text: 'x', stopReason }, {})));
      return 'value' in got ? got.value.choices[0]!.finishReason : undefined;
    };
    expect([stop('max_tokens'), stop('guardrail_intervened'), stop('content_filtered'), stop('stop_sequence')]).toEqual(['length', 'content-filter', 'content-filter', 'stop']);
  });

  it('reports a malformed answer as an error, never throwing', () => {
    expect(chat.parseResponse(utf8('<html>'))).toMatchObject({ error: { kind: 'upstream_error' } });
    expect(chat.parseResponse(json({ output: { message: { content: 'nope' } } }))).toMatchObject({ error: { kind: 'upstream_error' } });
  });
});

describe('bedrock adapter: ConverseStream (AWS event-stream)', () => {
  const stream = concat(converseStreamEvents({ text: 'Héllo 🌍 wörld', toolUses: [{ toolUseId: 'tu1', name: 'f', input: { city: 'Zürich' } }], usage: { inputTokens: 9, outputTokens: 5, cacheReadInputTokens: 3 } }, {}));
  const expected: CanonicalStreamPart[] = [
    { type: 'response-metadata' },
    { type: 'text-delta', choice: 0, text: 'Héllo 🌍 wörld' },
    { type: 'tool-call-start', choice: 0, index: 0, id: 'tu1', name: 'f' },
    { type: 'tool-call-delta', choice: 0, index: 0, inputDelta: '{"city":"Zürich"}' },
    { type: 'finish', choice: 0, reason: 'tool-calls', rawReason: 'tool_use' },
    { type: 'usage', usage: { input: { total: 12, noCache: 9, cacheRead: 3, cacheWrite: 0 }, output: { total: 5, text: 5, reasoning: 0 }, extra: {} } },
  ];

  it.each(CHUNK_SPLITS)('decodes the same parts whatever the chunking ($name)', ({ size }) => {
    expect(mergeDeltas(decodeInChunks(() => chat.createStreamDecoder(), stream, size))).toEqual(expected);
  });

  it('decodes the same parts with the stream cut at every byte boundary in two', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const d = chat.createStreamDecoder();
      const parts = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut)), ...d.end()];
      expect(mergeDeltas(parts)).toEqual(expected);
    }
  });

  it('reads a frame larger than the chunks it arrives in (a long tool input)', () => {
    const input = { text: 'ü'.repeat(40_000) };
    const big = concat(converseStreamEvents({ toolUses: [{ toolUseId: 't', name: 'f', input }] }, {}));
    const parts = mergeDeltas(decodeInChunks(() => chat.createStreamDecoder(), big, 1000));
    expect(parts.find((p) => p.type === 'tool-call-delta')).toEqual({ type: 'tool-call-delta', choice: 0, index: 0, inputDelta: JSON.stringify(input) });
    expect(parts.at(-1)?.type).toBe('usage');
  });

  it('keeps only what metering needs in metering-only mode', () => {
    const parts = decodeInChunks(() => chat.createStreamDecoder({ meteringOnly: true }), stream, 5);
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'finish', 'usage']);
  });

  it.each([
    ['throttlingException', 'rate_limited'],
    ['modelStreamErrorException', 'upstream_error'],
    ['validationException', 'bad_request'],
    ['serviceUnavailableException', 'overloaded'],
    ['internalServerException', 'upstream_error'],
  ])('turns an exception frame (%s) into an error part of kind %s, and stops', (exception, kind) => {
    const frames = converseStreamEvents({ text: 'a b' }, {});
    const bytes = concat([...frames.slice(0, 2), bedrockException(exception, `boom ${exception}`), ...frames.slice(2)]);
    const parts = decodeInChunks(() => chat.createStreamDecoder(), bytes, 3);
    expect(parts.at(-1)).toEqual({ type: 'error', error: expect.objectContaining({ kind, message: `boom ${exception}` }) });
    expect(parts.filter((p) => p.type === 'error')).toHaveLength(1);
    expect(parts.some((p) => p.type === 'finish')).toBe(false);
  });

  it('reports a stream that ends before messageStop, or inside a message', () => {
    const frames = converseStreamEvents({ text: 'a b' }, {});
    const noStop = decodeInChunks(() => chat.createStreamDecoder(), concat(frames.slice(0, 3)), 64);
    expect(noStop.at(-1)).toMatchObject({ type: 'error', error: { kind: 'upstream_error', message: 'the stream ended before messageStop' } });
    const cut = concat(frames);
    const inside = decodeInChunks(() => chat.createStreamDecoder(), cut.subarray(0, cut.length - 5), 64);
    expect(inside.at(-1)).toMatchObject({ type: 'error', error: { message: expect.stringContaining('ended inside an event-stream message') } });
  });

  it('reports a corrupted frame (bad CRC) or an SSE body as an error part, never throwing', () => {
    const frame = bedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'x' } });
    const corrupted = frame.slice();
    corrupted[corrupted.length - 6] ^= 0xff;
    expect(decodeInChunks(() => chat.createStreamDecoder(), corrupted, 4)[0]).toMatchObject({ type: 'error', error: { kind: 'upstream_error' } });
    expect(decodeInChunks(() => chat.createStreamDecoder(), utf8('data: {"choices":[]}\n\n'), 4)[0]).toMatchObject({ type: 'error' });
  });
});

describe('bedrock adapter: errors', () => {
  const err = (status: number, type: string | undefined, message: string, headers: Record<string, string> = {}) =>
    bedrockAdapter.mapError(status, json({ message }), type ? { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, ...headers } : headers);

  it.each([
    [429, 'ThrottlingException', 'Too many requests', 'rate_limited'],
    [403, 'AccessDeniedException', 'You don\'t have access to the model', 'auth'],
    [403, 'UnrecognizedClientException', 'The security token included in the request is invalid.', 'auth'],
    [403, 'InvalidSignatureException', 'The request signature we calculated does not match', 'auth'],
    [400, 'ValidationException', 'Input is too long for requested model.', 'context_length'],
    [400, 'ValidationException', 'prompt is too long: 250000 tokens > 200000 maximum', 'context_length'],
    [400, 'ValidationException', 'messages: roles must alternate', 'bad_request'],
    [503, 'ServiceUnavailableException', 'Service unavailable', 'overloaded'],
    [429, 'ModelNotReadyException', 'The model is not ready', 'overloaded'],
    [404, 'ResourceNotFoundException', 'Model not found', 'bad_request'],
    [424, 'ModelErrorException', 'The model failed', 'upstream_error'],
    [500, 'InternalServerException', 'Internal', 'upstream_error'],
  ])('maps %i %s to %s with its message', (status, type, message, kind) => {
    expect(err(status, type, message)).toMatchObject({ kind, message, status });
  });

  it('keeps retry-after for throttling, and falls back on the status without an error type', () => {
    expect(err(429, 'ThrottlingException', 'slow down', { 'retry-after': '2' })).toMatchObject({ kind: 'rate_limited', retryable: true, retryAfterMs: 2000 });
    expect(bedrockAdapter.mapError(502, utf8('<html>bad gateway</html>'), {})).toMatchObject({ kind: 'upstream_error', message: 'upstream answered HTTP 502' });
    expect(bedrockAdapter.mapError(403, utf8(''), {})).toMatchObject({ kind: 'auth' });
  });
});

describe('bedrock adapter: embeddings', () => {
  const titan: CallTarget = { ...target, upstreamModel: 'amazon.titan-embed-text-v2:0' };
  const cohere: CallTarget = { ...target, upstreamModel: 'cohere.embed-multilingual-v3' };

  it('sends Titan one text with its dimensions, to InvokeModel', async () => {
    const { request, warnings } = await embedding.buildRequest({ model: 'e', input: ['hello'], dimensions: 512 }, titan);
    expect(request.url).toBe('https://bedrock-runtime.eu-west-3.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke');
    expect(JSON.parse(request.body!)).toEqual({ inputText: 'hello', dimensions: 512 });
    expect(warnings).toEqual([]);
  });

  it('refuses several texts for Titan, naming input (one upstream request per call)', async () => {
    await expect(embedding.buildRequest({ model: 'e', input: ['a', 'b'] }, titan)).rejects.toMatchObject({ param: 'input' });
    await expect(embedding.buildRequest({ model: 'e', input: ['a', 'b'] }, titan)).rejects.toBeInstanceOf(InvalidClientRequest);
    await expect(embedding.buildRequest({ model: 'e', input: ['a'] }, { ...target, upstreamModel: 'meta.llama3' })).rejects.toMatchObject({ param: 'model' });
  });

  it('sends Cohere every text with the input type, dimensions reported', async () => {
    const { request, warnings } = await embedding.buildRequest({ model: 'e', input: ['a', 'b'], dimensions: 3 }, cohere);
    expect(JSON.parse(request.body!)).toEqual({ texts: ['a', 'b'], input_type: 'search_document' });
    expect(warnings).toEqual([{ type: 'unsupported-setting', setting: 'dimensions', details: 'Cohere Embed v3 has a fixed size' }]);
  });

  it('reads Titan vectors with the token count, and Cohere vectors of either shape', () => {
    expect(embedding.parseResponse(json({ embedding: [0.1, 0.2], inputTextTokenCount: 3 }))).toEqual({
      value: { embeddings: [[0.1, 0.2]], usage: { input: { total: 3, noCache: 3, cacheRead: 0, cacheWrite: 0 }, output: { total: 0, text: 0, reasoning: 0 }, extra: {} } },
    });
    expect(embedding.parseResponse(json({ embeddings: [[1], [2]], id: 'x' }))).toEqual({ value: { embeddings: [[1], [2]] } });
    // Cohere's body has no count: InvokeModel's header does.
    expect(embedding.parseResponse(json({ embeddings: [[1], [2]] }), { headers: { 'x-amzn-bedrock-input-token-count': '7' } })).toEqual({
      value: { embeddings: [[1], [2]], usage: { input: { total: 7, noCache: 7, cacheRead: 0, cacheWrite: 0 }, output: { total: 0, text: 0, reasoning: 0 }, extra: {} } },
    });
    expect(embedding.parseResponse(json({ embeddings: { float: [[1]] } }))).toEqual({ value: { embeddings: [[1]] } });
    expect(embedding.parseResponse(json({ nothing: true }))).toMatchObject({ error: { kind: 'upstream_error' } });
  });
});
