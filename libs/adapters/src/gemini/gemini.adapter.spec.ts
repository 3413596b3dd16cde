import type { CallTarget, CanonicalStreamPart, ChatOperation, ChatRequest, EmbeddingOperation } from '#libs/adapter-sdk';
import { CHUNK_SPLITS, decodeInChunks, mergeDeltas, utf8 } from '../../../adapter-sdk/src/testing/chunk-splits.js';
import {
  blockedPrompt,
  errors,
  midStreamError,
  textResponse,
  textStreamChunks,
  thoughtAndToolResponse,
  toGeminiSse,
  toolStreamChunks,
  twoCandidates,
} from '../../../../test/fixtures/gemini/gemini-fixtures.js';
import { googleAIStudioAdapter } from './google-ai-studio.adapter.js';
import { createVertexAIAdapter } from './vertex-ai.adapter.js';
import { VertexTokenCache } from './vertex-token-source.js';

const chat = googleAIStudioAdapter.chat as ChatOperation;
const json = (v: unknown): Uint8Array => utf8(JSON.stringify(v));
const studioTarget: CallTarget = { upstreamModel: 'gemini-2.5-flash', settings: { apiVersion: 'v1beta' }, secrets: { apiKey: 'AIza-key' } };
const ask = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'team-gemini', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], stream: false, includeUsage: false, ...extra });

function parse(body: unknown) {
  const decoded = chat.parseResponse(json(body));
  if ('error' in decoded) throw new Error(`expected a response, got ${decoded.error.message}`);
  return decoded.value;
}

async function bodyOf(req: ChatRequest): Promise<{ body: Record<string, unknown>; warnings: unknown[] }> {
  const built = await chat.buildRequest(req, studioTarget);
  return { body: JSON.parse(built.request.body!) as Record<string, unknown>, warnings: built.warnings };
}

describe('Gemini request (canonical -> GenerateContentRequest)', () => {
  it('puts system messages in systemInstruction, roles user/model, images as inlineData, tool calls and results as functionCall/functionResponse', async () => {
    const { body, warnings } = await bodyOf(
      ask({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Be terse.' }] },
          { role: 'user', content: [{ type: 'text', text: 'What is this and the weather?' }, { type: 'image', source: { type: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' } }] },
          { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool-call', toolCallId: 'call_1', toolName: 'get_weather', input: '{"city":"Paris"}' }, { type: 'tool-call', toolCallId: 'call_2', toolName: 'get_time', input: '' }] },
          {
            role: 'tool',
            content: [
              { type: 'tool-result', toolCallId: 'call_1', content: [{ type: 'text', text: '{"temp":21}' }] },
              { type: 'tool-result', toolCallId: 'call_2', content: [{ type: 'text', text: 'noon' }] },
            ],
          },
          { role: 'user', content: [{ type: 'text', text: 'thanks' }] },
        ],
      }),
    );
    expect(body).toEqual({
      systemInstruction: { parts: [{ text: 'Be terse.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'What is this and the weather?' }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }] },
        // Calls begun elsewhere carry Google's documented stand-in signature (Gemini 3 refuses unsigned calls).
        {
          role: 'model',
          parts: [
            { text: 'Checking.' },
            { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'skip_thought_signature_validator' },
            { functionCall: { name: 'get_time', args: {} }, thoughtSignature: 'skip_thought_signature_validator' },
          ],
        },
        // Results answer the model's turn; the user's next words join the same user turn.
        {
          role: 'user',
          parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }, { functionResponse: { name: 'get_time', response: { content: 'noon' } } }, { text: 'thanks' }],
        },
      ],
    });
    expect(warnings).toEqual([]);
  });

  it('declares tools with a Gemini-accepted schema, maps tool_choice to functionCallingConfig and the generation settings to generationConfig', async () => {
    const { body } = await bodyOf(
      ask({
        tools: [{ type: 'function', name: 'get_weather', description: 'Weather', inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false, $schema: 'x' } }],
        toolChoice: { type: 'tool', toolName: 'get_weather' },
        temperature: 0.3,
        topP: 0.9,
        maxOutputTokens: 256,
        stopSequences: ['END'],
        choices: 2,
        seed: 7,
      }),
    );
    expect(body.tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] }]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
    expect(body.generationConfig).toEqual({ temperature: 0.3, topP: 0.9, maxOutputTokens: 256, stopSequences: ['END'], candidateCount: 2, seed: 7 });
  });

  it('asks for thought summaries with a thinking budget', async () => {
    expect((await bodyOf(ask({ reasoning: { budgetTokens: 2048 } }))).body.generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } });
  });

  it('asks for JSON with responseMimeType, and for a schema with responseSchema', async () => {
    expect((await bodyOf(ask({ responseFormat: { type: 'json' } }))).body.generationConfig).toEqual({ responseMimeType: 'application/json' });
    const schema = { type: 'object', properties: { name: { type: 'string' }, zip: { type: ['string', 'null'] }, additionalProperties: { type: 'boolean' } }, additionalProperties: false };
    const { body } = await bodyOf(ask({ responseFormat: { type: 'json-schema', name: 'city', schema, strict: true } }));
    // A property may be named like a keyword: only keywords are left out.
    expect(body.generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { name: { type: 'string' }, zip: { type: 'string', nullable: true }, additionalProperties: { type: 'boolean' } } },
    });
  });

  it('reports what Gemini cannot honour as warnings', async () => {
    const { body, warnings } = await bodyOf(ask({ user: 'u-1', parallelToolCalls: false, reasoning: { effort: 'high' }, providerOptions: { anthropic: { cache_control: {} } } }));
    // An effort is Google's budget for it (its OpenAI compatibility's mapping), not a warning.
    expect(body.generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 24576 } });
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ setting: 'user' }),
        expect.objectContaining({ setting: 'parallel_tool_calls' }),
        expect.objectContaining({ setting: 'cache_control' }),
      ]),
    );
  });

  it('calls AI Studio at /{version}/models/{model}:generateContent, or :streamGenerateContent?alt=sse, with x-goog-api-key', async () => {
    const whole = await chat.buildRequest(ask(), { ...studioTarget, baseUrl: 'http://fake:1/' });
    expect(whole.request).toMatchObject({ url: 'http://fake:1/v1beta/models/gemini-2.5-flash:generateContent', method: 'POST', headers: { 'x-goog-api-key': 'AIza-key' } });
    const streamed = await chat.buildRequest(ask({ stream: true }), { ...studioTarget, upstreamModel: 'models/gemini-2.0-flash', settings: { apiVersion: 'v1' } });
    expect(streamed.request.url).toBe('https://generativelanguage.googleapis.com/v1/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
  });
});

describe('Gemini response (GenerateContentResponse -> canonical)', () => {
  it('reads text, the model version, the id and usage: cached tokens as cache read, thoughts as reasoning', () => {
    expect(parse(textResponse)).toEqual({
      id: 'mAitaOnPJ9-Lz7IPgNHZgQ4',
      model: 'gemini-2.5-flash',
      choices: [{ index: 0, content: [{ type: 'text', text: 'Paris is the capital of France.' }], finishReason: 'stop', rawFinishReason: 'STOP' }],
      usage: { input: { total: 1200, noCache: 200, cacheRead: 1000, cacheWrite: 0 }, output: { total: 38, text: 8, reasoning: 30 }, extra: {} },
    });
  });

  it('reads thoughts as reasoning and function calls as tool calls (finish tool-calls), each with an id', () => {
    const res = parse(thoughtAndToolResponse);
    const choice = res.choices[0]!;
    expect(choice.finishReason).toBe('tool-calls');
    expect(choice.content).toEqual([
      { type: 'reasoning', text: '**Checking the weather**\nThe user wants the weather in two cities.' },
      { type: 'tool-call', toolCallId: expect.stringMatching(/^call_/), toolName: 'get_weather', input: '{"city":"Paris"}' },
      { type: 'tool-call', toolCallId: expect.stringMatching(/^call_/), toolName: 'get_weather', input: '{"city":"Zürich","unit":"celsius"}' },
    ]);
    const ids = choice.content.map((p) => (p.type === 'tool-call' ? p.toolCallId : '')).filter(Boolean);
    expect(new Set(ids).size).toBe(2);
  });

  it('carries a function call’s thought signature in its tool call id, and sends it back with the call', async () => {
    const signature = 'CiQBcsjafE+zT/0xQ5Z1p8pXHnTOYK5y5DOnTAHTUkpUZ/0gBbEKYQFyyNp8';
    const res = parse({ candidates: [{ content: { parts: [{ functionCall: { name: 'get_weather', args: { city: 'Oslo' } }, thoughtSignature: signature }], role: 'model' }, finishReason: 'STOP', index: 0 }] });
    const call = res.choices[0]!.content[0]!;
    if (call.type !== 'tool-call') throw new Error('expected a tool call');
    expect(call.toolCallId).toMatch(/^call_[0-9a-f]{24}_ts_[A-Za-z0-9_-]+$/);
    const { body } = await bodyOf(ask({ messages: [{ role: 'user', content: [{ type: 'text', text: 'weather?' }] }, { role: 'assistant', content: [call] }, { role: 'tool', content: [{ type: 'tool-result', toolCallId: call.toolCallId, content: [{ type: 'text', text: 'sunny' }] }] }] }));
    expect((body.contents as unknown[])[1]).toEqual({ role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Oslo' } }, thoughtSignature: signature }] });
    expect((body.contents as unknown[])[2]).toEqual({ role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: 'sunny' } } }] });
  });

  it('reads several candidates, MAX_TOKENS as length, and a blocked prompt as a content-filter finish', () => {
    expect(parse(twoCandidates).choices.map((c) => [c.index, c.finishReason])).toEqual([
      [0, 'stop'],
      [1, 'length'],
    ]);
    expect(parse(blockedPrompt).choices).toEqual([{ index: 0, content: [], finishReason: 'content-filter', rawFinishReason: 'PROHIBITED_CONTENT' }]);
    expect(parse({ ...textResponse, candidates: [{ ...textResponse.candidates[0], finishReason: 'SAFETY' }] }).choices[0]?.finishReason).toBe('content-filter');
  });

  it('answers a malformed body with an error, never a throw', () => {
    expect(chat.parseResponse(utf8('<html>oops</html>'))).toMatchObject({ error: { kind: 'upstream_error' } });
    expect(chat.parseResponse(json({ candidates: 'x' }))).toMatchObject({ error: { kind: 'upstream_error' } });
    expect(chat.parseResponse(json({}))).toMatchObject({ error: { kind: 'upstream_error' } });
  });
});

describe('Gemini stream (SSE of streamGenerateContent?alt=sse)', () => {
  const decode = (text: string, size: number): CanonicalStreamPart[] => mergeDeltas(decodeInChunks(() => chat.createStreamDecoder(), utf8(text), size));

  it.each(CHUNK_SPLITS)('reads text, thoughts, the finish and the last usage, cut $name', ({ size }) => {
    const parts = decode(toGeminiSse(textStreamChunks), size);
    expect(parts).toEqual([
      { type: 'response-metadata', id: 'stream-1', model: 'gemini-2.5-flash' },
      { type: 'reasoning-delta', choice: 0, text: '**Thinking** about é' },
      { type: 'usage', usage: expect.anything() },
      { type: 'text-delta', choice: 0, text: 'Bonjour, ' },
      { type: 'usage', usage: expect.anything() },
      { type: 'text-delta', choice: 0, text: 'le monde 🌍' },
      { type: 'usage', usage: expect.anything() },
      { type: 'finish', choice: 0, reason: 'stop', rawReason: 'STOP' },
      { type: 'usage', usage: { input: { total: 12, noCache: 12, cacheRead: 0, cacheWrite: 0 }, output: { total: 12, text: 5, reasoning: 7 }, extra: {} } },
    ]);
  });

  it.each(CHUNK_SPLITS)('reads whole function calls as a start and one delta each, finishing with tool-calls, cut $name', ({ size }) => {
    const parts = decode(toGeminiSse(toolStreamChunks), size).filter((p) => p.type !== 'usage' && p.type !== 'response-metadata');
    expect(parts).toEqual([
      { type: 'tool-call-start', choice: 0, index: 0, id: expect.stringMatching(/^call_/), name: 'get_weather' },
      { type: 'tool-call-delta', choice: 0, index: 0, inputDelta: '{"city":"Paris"}' },
      { type: 'tool-call-start', choice: 0, index: 1, id: expect.stringMatching(/^call_/), name: 'get_time' },
      { type: 'tool-call-delta', choice: 0, index: 1, inputDelta: '{}' },
      { type: 'finish', choice: 0, reason: 'tool-calls', rawReason: 'STOP' },
    ]);
  });

  it('turns an error event mid-stream into an error part in the taxonomy', () => {
    const parts = decode(toGeminiSse([textStreamChunks[1], midStreamError]), 5);
    expect(parts.at(-1)).toEqual({ type: 'error', error: expect.objectContaining({ kind: 'upstream_error', message: 'An internal error has occurred. Please retry.', retryable: true }) });
    expect(parts.filter((p) => p.type === 'error')).toHaveLength(1);
  });

  it('reports a stream that stops before any finishReason, and a malformed event, as errors', () => {
    expect(decode(toGeminiSse(textStreamChunks.slice(0, 2)), 64).at(-1)).toMatchObject({ type: 'error', error: { message: expect.stringContaining('ended before a finishReason') } });
    expect(decode('data: {"candidates": [\r\n\r\n', 3).at(-1)).toMatchObject({ type: 'error', error: { message: expect.stringContaining('malformed') } });
  });

  it('waits for every candidate to finish', () => {
    const c = (index: number, text: string, finishReason?: string) => ({ candidates: [{ content: { parts: [{ text }], role: 'model' }, index, ...(finishReason ? { finishReason } : {}) }] });
    const parts = decode(toGeminiSse([c(0, 'a'), c(1, 'b'), c(0, '.', 'STOP'), c(1, '!', 'MAX_TOKENS')]), 64);
    expect(parts.filter((p) => p.type === 'finish')).toEqual([
      { type: 'finish', choice: 0, reason: 'stop', rawReason: 'STOP' },
      { type: 'finish', choice: 1, reason: 'length', rawReason: 'MAX_TOKENS' },
    ]);
    expect(parts.some((p) => p.type === 'error')).toBe(false);
  });

  it('ends a blocked prompt with a content-filter finish', () => {
    expect(decode(toGeminiSse([blockedPrompt]), 64).filter((p) => p.type === 'finish')).toEqual([{ type: 'finish', choice: 0, reason: 'content-filter', rawReason: 'PROHIBITED_CONTENT' }]);
  });
});

describe('Google errors -> taxonomy', () => {
  const map = (status: number, body: unknown, headers: Record<string, string> = {}) => googleAIStudioAdapter.mapError(status, json(body), headers);

  it.each([
    ['RESOURCE_EXHAUSTED', 429, errors.rateLimited, 'rate_limited'],
    ['API key not valid (400 INVALID_ARGUMENT)', 400, errors.badKey, 'auth'],
    ['PERMISSION_DENIED', 403, errors.permissionDenied, 'auth'],
    ['UNAUTHENTICATED', 401, errors.unauthenticated, 'auth'],
    ['a token limit', 400, errors.tooManyTokens, 'context_length'],
    ['another INVALID_ARGUMENT', 400, errors.badArgument, 'bad_request'],
    ['NOT_FOUND', 404, errors.notFound, 'bad_request'],
    ['UNAVAILABLE', 503, errors.unavailable, 'overloaded'],
    ['INTERNAL', 500, errors.internal, 'upstream_error'],
  ] as const)('%s -> %s', (_name, status, body, kind) => {
    const e = map(status, body);
    expect(e.kind).toBe(kind);
    expect(e.message).toBe(body.error.message);
    expect(e.status).toBe(status);
  });

  it('takes the retry delay from RetryInfo, else from retry-after', () => {
    expect(map(429, errors.rateLimited).retryAfterMs).toBe(43_000);
    expect(map(503, errors.unavailable, { 'retry-after': '2' }).retryAfterMs).toBe(2000);
  });

  it('maps a body that is not Google’s by its status', () => {
    expect(googleAIStudioAdapter.mapError(429, utf8('Too Many Requests'), {})).toMatchObject({ kind: 'rate_limited', retryable: true });
    expect(googleAIStudioAdapter.mapError(502, utf8('<html>Bad Gateway</html>'), {})).toMatchObject({ kind: 'upstream_error', message: 'upstream answered HTTP 502' });
    expect(map(400, [errors.tooManyTokens]).kind).toBe('context_length');
  });
});

describe('Gemini embeddings', () => {
  it('AI Studio: batchEmbedContents, one request per input, vectors in order', async () => {
    const op = googleAIStudioAdapter.embedding as EmbeddingOperation;
    const built = await op.buildRequest({ model: 'emb', input: ['a', 'b'], dimensions: 8 }, { ...studioTarget, upstreamModel: 'gemini-embedding-001' });
    expect(built.request.url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(JSON.parse(built.request.body!)).toEqual({
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, outputDimensionality: 8 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] }, outputDimensionality: 8 },
      ],
    });
    expect(op.parseResponse(json({ embeddings: [{ values: [0.1, 0.2] }, { values: [0.3, 0.4] }] }))).toEqual({ value: { embeddings: [[0.1, 0.2], [0.3, 0.4]] } });
    expect(op.parseResponse(json({ embeddings: [{ values: ['x'] }] }))).toMatchObject({ error: { kind: 'upstream_error' } });
  });
});

describe('vertex-ai adapter', () => {
  const key = JSON.stringify({ type: 'service_account', project_id: 'acme-prod-1', client_email: 'gw@acme-prod-1.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n' });
  let fetches = 0;
  const vertex = createVertexAIAdapter({ tokens: new VertexTokenCache(async () => ({ token: `ya29.t${++fetches}`, expiresAt: Date.now() + 3600_000 })) });
  const target = (settings: Record<string, string>, baseUrl?: string): CallTarget => ({ upstreamModel: 'gemini-2.5-pro', settings, secrets: { serviceAccountJson: key }, ...(baseUrl ? { baseUrl } : {}) });

  it('validates the key file and the project and location, naming the field', () => {
    expect(vertex.validateSettings({ serviceAccountJson: key })).toEqual({ value: { settings: { project: 'acme-prod-1', location: 'us-central1' }, secrets: { serviceAccountJson: key } } });
    expect(vertex.validateSettings({ serviceAccountJson: '{"type":"authorized_user"}' })).toEqual({ errors: [{ field: 'serviceAccountJson', message: 'must be a key of type service_account (got "authorized_user")' }] });
    expect(vertex.validateSettings({ serviceAccountJson: 'not json' })).toEqual({ errors: [{ field: 'serviceAccountJson', message: 'must be the JSON of a service-account key file' }] });
    expect(vertex.validateSettings({ serviceAccountJson: JSON.stringify({ type: 'service_account', client_email: 'a@b.c' }) })).toEqual({ errors: [{ field: 'serviceAccountJson', message: 'has no PEM private_key' }] });
    expect(vertex.validateSettings({ serviceAccountJson: key, location: 'us-central1.evil.example/x' })).toEqual({ errors: [{ field: 'location', message: expect.stringContaining('location') }] });
    expect(vertex.validateSettings({})).toEqual({ errors: [{ field: 'serviceAccountJson', message: 'is required' }] });
  });

  it('calls the regional endpoint, or aiplatform.googleapis.com for global, with the cached bearer token', async () => {
    const op = vertex.chat as ChatOperation;
    const before = fetches;
    const regional = await op.buildRequest(ask(), target({ project: 'acme-prod-1', location: 'europe-west4' }));
    expect(regional.request.url).toBe('https://europe-west4-aiplatform.googleapis.com/v1/projects/acme-prod-1/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent');
    expect(regional.request.headers.authorization).toBe(`Bearer ya29.t${before + 1}`);
    const global = await op.buildRequest(ask({ stream: true }), target({ project: 'acme-prod-1', location: 'global' }));
    expect(global.request.url).toBe('https://aiplatform.googleapis.com/v1/projects/acme-prod-1/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse');
    const overridden = await (vertex.embedding as EmbeddingOperation).buildRequest({ model: 'e', input: ['x'] }, target({ project: 'p-123456', location: 'us-east5' }, 'http://127.0.0.1:9'));
    expect(overridden.request.url).toBe('http://127.0.0.1:9/v1/projects/p-123456/locations/us-east5/publishers/google/models/gemini-2.5-pro:predict');
    expect(JSON.parse(overridden.request.body!)).toEqual({ instances: [{ content: 'x' }] });
    expect(fetches).toBe(before + 1);
  });

  it('refuses several texts for a Gemini embedding model, which Vertex embeds one per call, naming input', async () => {
    const op = vertex.embedding as EmbeddingOperation;
    const t = { ...target({ project: 'acme-prod-1', location: 'us-central1' }), upstreamModel: 'gemini-embedding-001' };
    await expect(op.buildRequest({ model: 'e', input: ['a', 'b'] }, t)).rejects.toMatchObject({ param: 'input', message: expect.stringContaining('one text per call; 2 were given') });
    await expect(op.buildRequest({ model: 'e', input: ['a'] }, t)).resolves.toBeDefined();
  });

  it('reads :predict embeddings with their token counts as input usage', () => {
    const decoded = (vertex.embedding as EmbeddingOperation).parseResponse(
      json({ predictions: [{ embeddings: { values: [1, 2], statistics: { token_count: 3, truncated: false } } }, { embeddings: { values: [3, 4], statistics: { token_count: 4 } } }] }),
    );
    expect(decoded).toEqual({ value: { embeddings: [[1, 2], [3, 4]], usage: { input: { total: 7, noCache: 7, cacheRead: 0, cacheWrite: 0 }, output: { total: 0, text: 0, reasoning: 0 }, extra: {} } } });
  });
});
