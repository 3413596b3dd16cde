import type { CallTarget, CanonicalStreamPart, ChatOperation, ChatRequest, EmbeddingOperation, CompletionOperation } from '#libs/adapter-sdk';
import { CHUNK_SPLITS, decodeInChunks, mergeDeltas, utf8 } from '../../../adapter-sdk/src/testing/chunk-splits.js';
import { createAzureOpenAIAdapter, parseDeployments } from './azure-openai.adapter.js';
import { EntraTokenSource, type TokenFetch } from './entra-token-source.js';

const adapter = createAzureOpenAIAdapter();
const chat = adapter.chat as ChatOperation;
const target: CallTarget = {
  baseUrl: 'https://my-res.openai.azure.com/',
  upstreamModel: 'gpt-4o',
  settings: { apiStyle: 'deployments', apiVersion: '2024-10-21', deployments: 'gpt-4o=prod-4o, text-embedding-3-small=emb' },
  secrets: { apiKey: 'azure-key-1' },
};
const request: ChatRequest = { model: 'gw-model', stream: false, includeUsage: false, maxOutputTokens: 50, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] };

describe('azure-openai adapter: settings', () => {
  const valid = { baseUrl: 'https://my-res.openai.azure.com', apiVersion: '2024-10-21', apiKey: 'k' };

  it('accepts a key connection and applies the defaults', () => {
    expect(adapter.validateSettings(valid)).toEqual({
      value: {
        settings: { baseUrl: 'https://my-res.openai.azure.com', apiStyle: 'deployments', apiVersion: '2024-10-21', authorityUrl: 'https://login.microsoftonline.com', tokenScope: 'https://cognitiveservices.azure.com/.default' },
        secrets: { apiKey: 'k' },
      },
    });
  });

  it.each([
    [{ ...valid, apiVersion: undefined }, 'apiVersion', 'is required with apiStyle deployments'],
    [{ ...valid, apiVersion: 'yesterday' }, 'apiVersion', 'must be an Azure OpenAI api-version'],
    [{ ...valid, apiStyle: 'v2' }, 'apiStyle', 'must be one of deployments, v1'],
    [{ ...valid, deployments: 'gpt-4o' }, 'deployments', 'is not a model=deployment pair'],
    [{ ...valid, deployments: 'gpt-4o=a b' }, 'deployments', 'is not a deployment name'],
    [{ ...valid, apiKey: undefined }, 'apiKey', 'is required unless an Entra ID service principal'],
    [{ ...valid, tenantId: 't' }, 'apiKey', 'not both'],
    [{ ...valid, apiKey: undefined, tenantId: 't', clientSecret: 's' }, 'clientId', 'is required for an Entra ID service principal'],
    [{ ...valid, baseUrl: 'https://my-res.openai.azure.com/?api-version=1' }, 'baseUrl', 'without a query'],
    [{ ...valid, authorityUrl: 'login' }, 'authorityUrl', 'must be an absolute URL'],
  ])('refuses %j naming %s', (input, field, message) => {
    const checked = adapter.validateSettings(input);
    expect('errors' in checked && checked.errors).toEqual([{ field, message: expect.stringContaining(message) }]);
  });

  it('takes the v1 form without an api-version, and a service principal instead of a key', () => {
    const checked = adapter.validateSettings({ baseUrl: valid.baseUrl, apiStyle: 'v1', tenantId: 't', clientId: 'c', clientSecret: 's' });
    expect('value' in checked && checked.value.secrets).toEqual({ clientSecret: 's' });
  });

  it('reads deployments as model=deployment pairs', () => {
    expect(parseDeployments(' a=b ,c=d,')).toEqual({ map: new Map([['a', 'b'], ['c', 'd']]) });
    expect(parseDeployments('a=b,a=c')).toEqual({ error: 'a is given twice' });
  });
});

describe('azure-openai adapter: requests', () => {
  it('calls the deployment of the model with the api-version and the api-key header, not a bearer', async () => {
    const { request: built } = await chat.buildRequest(request, target);
    expect(built.url).toBe('https://my-res.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21');
    expect(built.headers).toMatchObject({ 'api-key': 'azure-key-1', 'content-type': 'application/json' });
    expect(built.headers.authorization).toBeUndefined();
    expect(JSON.parse(built.body ?? '')).toMatchObject({ max_completion_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('a model without a listed deployment is called on the deployment of its own name', async () => {
    const { request: built } = await chat.buildRequest(request, { ...target, upstreamModel: 'gpt-4.1-mini' });
    expect(built.url).toBe('https://my-res.openai.azure.com/openai/deployments/gpt-4.1-mini/chat/completions?api-version=2024-10-21');
  });

  it('passes the client body through, asking a stream for its usage', async () => {
    const body = { model: 'gw', messages: [{ role: 'user', content: 'hi' }], stream: true, some_new_field: { x: 1 } };
    const { request: built } = await chat.buildNativeRequest!(body, target);
    expect(JSON.parse(built.body ?? '')).toEqual({ ...body, model: 'gpt-4o', stream_options: { include_usage: true } });
  });

  it('the v1 form names the deployment in the body and sends no api-version', async () => {
    const v1 = { ...target, settings: { ...target.settings, apiStyle: 'v1', apiVersion: '' } };
    const { request: built } = await chat.buildNativeRequest!({ model: 'gw', messages: [] }, v1);
    expect(built.url).toBe('https://my-res.openai.azure.com/openai/v1/chat/completions');
    expect(JSON.parse(built.body ?? '').model).toBe('prod-4o');
  });

  it('embeddings and completions go to their deployment paths', async () => {
    const emb = await (adapter.embedding as EmbeddingOperation).buildRequest({ model: 'gw', input: ['a'] }, { ...target, upstreamModel: 'text-embedding-3-small' });
    expect(emb.request.url).toBe('https://my-res.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-10-21');
    const cmp = await (adapter.completion as CompletionOperation).buildRequest({ model: 'gw', prompt: 'x', stream: false, includeUsage: false }, { ...target, upstreamModel: 'gpt-35-turbo-instruct' });
    expect(cmp.request.url).toBe('https://my-res.openai.azure.com/openai/deployments/gpt-35-turbo-instruct/completions?api-version=2024-10-21');
  });

  it('sends an Entra ID token as a bearer, fetched once for many calls and again before it expires', async () => {
    let now = 1_000_000;
    const fetched: { url: string; body: string }[] = [];
    const fetchToken: TokenFetch = async (url, init) => {
      fetched.push({ url, body: init.body });
      return { status: 200, text: async () => JSON.stringify({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: `tok-${fetched.length}` }) };
    };
    const entra = createAzureOpenAIAdapter({ tokenSource: new EntraTokenSource(fetchToken, () => now) });
    const principal: CallTarget = {
      ...target,
      settings: { ...target.settings, tenantId: 'tenant-1', clientId: 'client-1', authorityUrl: 'http://127.0.0.1:9/', tokenScope: 'https://cognitiveservices.azure.com/.default' },
      secrets: { clientSecret: 'cs' },
    };
    const op = entra.chat as ChatOperation;
    const built = await Promise.all([op.buildRequest(request, principal), op.buildRequest(request, principal), op.buildRequest(request, principal)]);
    expect(built.map((b) => b.request.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1']);
    expect(built[0]!.request.headers['api-key']).toBeUndefined();
    expect(fetched).toHaveLength(1);
    expect(fetched[0]!.url).toBe('http://127.0.0.1:9/tenant-1/oauth2/v2.0/token');
    expect(Object.fromEntries(new URLSearchParams(fetched[0]!.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'client-1',
      client_secret: 'cs',
      scope: 'https://cognitiveservices.azure.com/.default',
    });
    now += 50 * 60_000; // 50 min: still valid with more than 5 min to go
    expect((await op.buildRequest(request, principal)).request.headers.authorization).toBe('Bearer tok-1');
    now += 5 * 60_000; // 55 min: within 5 min of expiry
    expect((await op.buildRequest(request, principal)).request.headers.authorization).toBe('Bearer tok-2');
    expect(fetched).toHaveLength(2);
  });

  it('a refused service principal fails the build with the authority\'s reason, not the secret', async () => {
    const fetchToken: TokenFetch = async () => ({
      status: 401,
      text: async () => JSON.stringify({ error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' }),
    });
    const entra = createAzureOpenAIAdapter({ tokenSource: new EntraTokenSource(fetchToken) });
    const principal: CallTarget = { ...target, settings: { ...target.settings, tenantId: 't', clientId: 'c' }, secrets: { clientSecret: 'super-secret' } };
    const failed = (entra.chat as ChatOperation).buildRequest(request, principal);
    await expect(failed).rejects.toThrow('AADSTS7000215');
    await expect(failed).rejects.toMatchObject({ error: { kind: 'auth', retryable: false } });
    await expect(failed).rejects.not.toThrow('super-secret');
  });
});

describe('azure-openai adapter: answers', () => {
  const bytes = (v: unknown): Uint8Array => utf8(JSON.stringify(v));

  it('decodes a whole answer with Azure\'s filter results and a content_filter finish', () => {
    const answer = {
      id: 'chatcmpl-AZ1',
      object: 'chat.completion',
      created: 1_765_000_000,
      model: 'gpt-4o-2024-11-20',
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: 'safe' } } }],
      choices: [
        { index: 0, finish_reason: 'content_filter', message: { role: 'assistant', content: 'Partial', refusal: null }, content_filter_results: { violence: { filtered: true, severity: 'medium' } } },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    };
    const decoded = chat.parseResponse(bytes(answer));
    expect('value' in decoded && decoded.value).toMatchObject({
      id: 'chatcmpl-AZ1',
      model: 'gpt-4o-2024-11-20',
      choices: [{ finishReason: 'content-filter', rawFinishReason: 'content_filter', content: [{ type: 'text', text: 'Partial' }] }],
      usage: { input: { total: 12 }, output: { total: 3 } },
    });
  });

  /** A stream as Azure sends it: prompt filter results first (empty id and model), filter results on every chunk. */
  const azureStream = [
    { choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: 'safe' } } }] },
    { choices: [{ content_filter_results: {}, delta: { content: '', role: 'assistant' }, finish_reason: null, index: 0 }], created: 1_765_000_000, id: 'chatcmpl-AZ2', model: 'gpt-4o-2024-11-20', object: 'chat.completion.chunk', system_fingerprint: 'fp_1' },
    { choices: [{ content_filter_results: { hate: { filtered: false, severity: 'safe' } }, delta: { content: 'Hel' }, finish_reason: null, index: 0 }], created: 1_765_000_000, id: 'chatcmpl-AZ2', model: 'gpt-4o-2024-11-20', object: 'chat.completion.chunk' },
    { choices: [{ content_filter_results: {}, delta: {}, finish_reason: 'stop', index: 0 }], created: 1_765_000_000, id: 'chatcmpl-AZ2', model: 'gpt-4o-2024-11-20', object: 'chat.completion.chunk' },
    { choices: [], created: 1_765_000_000, id: 'chatcmpl-AZ2', model: 'gpt-4o-2024-11-20', object: 'chat.completion.chunk', usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 } },
  ];
  const sse = utf8(azureStream.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n');

  it.each(CHUNK_SPLITS)('decodes Azure\'s stream, metadata from the first chunk that names it ($name)', ({ size }) => {
    const parts: CanonicalStreamPart[] = mergeDeltas(decodeInChunks(() => chat.createStreamDecoder(), sse, size));
    expect(parts).toEqual([
      { type: 'response-metadata', id: 'chatcmpl-AZ2', model: 'gpt-4o-2024-11-20', created: 1_765_000_000 },
      { type: 'text-delta', choice: 0, text: 'Hel' },
      { type: 'finish', choice: 0, reason: 'stop', rawReason: 'stop' },
      { type: 'usage', usage: expect.objectContaining({ input: expect.objectContaining({ total: 9 }), output: expect.objectContaining({ total: 1 }) }) },
    ]);
  });

  it('a stream its output filter cut short ends with the content-filter finish, read as such', () => {
    const cut = [
      azureStream[0],
      azureStream[1],
      { ...azureStream[3], choices: [{ content_filter_results: { violence: { filtered: true, severity: 'high' } }, delta: {}, finish_reason: 'content_filter', index: 0 }] },
    ];
    const parts = decodeInChunks(() => chat.createStreamDecoder(), utf8(cut.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n'), 5);
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'finish']);
    expect(parts[1]).toEqual({ type: 'finish', choice: 0, reason: 'content-filter', rawReason: 'content_filter' });
  });

  it('metering-only decoding of the same stream finds the model, finish and usage', () => {
    const parts = decodeInChunks(() => chat.createStreamDecoder({ meteringOnly: true }), sse, 7);
    expect(parts.filter((p) => p.type !== 'text-delta').map((p) => p.type)).toEqual(['response-metadata', 'finish', 'usage']);
    expect(parts[0]).toMatchObject({ model: 'gpt-4o-2024-11-20' });
  });
});

describe('azure-openai adapter: errors', () => {
  const body = (v: unknown): Uint8Array => utf8(JSON.stringify(v));

  it('a content-filter refusal is content_filter, naming the filtered categories', () => {
    const refusal = {
      error: {
        message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: {
          code: 'ResponsibleAIPolicyViolation',
          content_filter_result: { hate: { filtered: false, severity: 'safe' }, violence: { filtered: true, severity: 'medium' }, jailbreak: { filtered: true, detected: true } },
        },
      },
    };
    expect(adapter.mapError(400, body(refusal), {})).toMatchObject({ kind: 'content_filter', retryable: false, message: expect.stringContaining('[filtered: violence (medium), jailbreak]') });
    // The inner code alone is enough.
    expect(adapter.mapError(400, body({ error: { ...refusal.error, code: 'BadRequest' } }), {}).kind).toBe('content_filter');
  });

  it('429 is rate_limited with retry-after-ms before retry-after', () => {
    const limited = { error: { code: '429', message: 'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit. Please retry after 6 seconds.' } };
    expect(adapter.mapError(429, body(limited), { 'retry-after': '6', 'retry-after-ms': '5500' })).toMatchObject({ kind: 'rate_limited', retryable: true, retryAfterMs: 5500 });
    expect(adapter.mapError(429, body(limited), { 'retry-after': '6' })).toMatchObject({ kind: 'rate_limited', retryAfterMs: 6000 });
  });

  it.each([
    [401, { error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint.' } }, 'auth'],
    [403, { error: { code: 'PermissionDenied', message: 'Principal does not have access to API/Operation.' } }, 'auth'],
    [400, { error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } }, 'context_length'],
    [404, { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } }, 'bad_request'],
    [500, { error: { code: 'InternalServerError', message: 'boom' } }, 'upstream_error'],
  ])('HTTP %i %j is %s', (status, err, kind) => {
    expect(adapter.mapError(status, body(err), {}).kind).toBe(kind);
  });
});
