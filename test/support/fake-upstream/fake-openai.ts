import type { IncomingMessage, ServerResponse } from 'node:http';
import { AZURE_API_VERSIONS, azureChunks, azureErrorBody, azureWhole } from './azure-wire.js';
import type { FakeAnswer, FakeBehaviour, FakeError } from './fake-behaviour.js';
import { FakeUpstreamServer, prepareJson, type AnswerTarget, type EchoOut, type FakeUpstream, type Prepared } from './fake-upstream-server.js';
import {
  chatCompletion,
  chatCompletionChunks,
  DEFAULT_MODELS,
  embeddingsResponse,
  errorBody,
  openAIError,
  textCompletion,
  textCompletionChunks,
  unixNow,
  type OpenAIErrorBody,
} from './openai-wire.js';

/**
 * A fake OpenAI-compatible upstream: node:http only, OpenAI's real wire format (JSON, SSE, errors),
 * driven by the test. Also the benchmark's upstream, so the hot path answers from bodies serialised
 * once per (behaviour, model) and cached: no JSON.stringify per request for a canned answer.
 */

export interface StartFakeOpenAIOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** When set, every request must carry `Authorization: Bearer <apiKey>` (401 in OpenAI's format otherwise). */
  apiKey?: string;
  /** Record every request (default true); turn off for benchmarks. */
  record?: boolean;
  /** What GET /v1/models lists. */
  models?: readonly string[];
  /** Embedding size when the request gives no `dimensions` (default 8). */
  embeddingDimensions?: number;
  /** The answer when no behaviour is queued (default: a completion, JSON or SSE as the request asks). */
  defaultBehaviour?: FakeBehaviour;
}

export type { RecordedRequest } from './fake-upstream-server.js';

export interface StartFakeAzureOpenAIOptions extends StartFakeOpenAIOptions {
  /** When set (or bearerToken is), every request must carry `api-key: <apiKey>` (401 in Azure's format otherwise). */
  apiKey?: string;
  /** An Entra ID access token accepted as `Authorization: Bearer <token>` instead of the key. */
  bearerToken?: string;
  /** The api-versions the deployments form accepts (default AZURE_API_VERSIONS). */
  apiVersions?: readonly string[];
}

/**
 * The same fake speaking Azure OpenAI: `url` is the resource endpoint; requests go to
 * /openai/deployments/{deployment}/...?api-version=... (the deployment is the model behaviours are
 * scripted by) or to /openai/v1/... with the deployment as the body's model.
 */
export interface FakeAzureOpenAI extends FakeUpstream<FakeBehaviour> {
  readonly url: string;
  /** The Entra ID token to accept from now on; undefined accepts only the key. */
  expectBearerToken(token: string | undefined): void;
}

/** Takes behaviours at POST /v1/chat/completions, /v1/completions and /v1/embeddings; the expected key is a bearer key. */
export interface FakeOpenAI extends FakeUpstream<FakeBehaviour> {
  /** Base URL ending in /v1, e.g. http://127.0.0.1:41234/v1. */
  readonly url: string;
}

type Endpoint = 'chat' | 'completions' | 'embeddings';

interface PreparedStream {
  /** One `data: …\n\n` event per element, `[DONE]` last. */
  events: Buffer[];
  /** All events in one buffer, for streams written at once. */
  all: Buffer;
}

interface RequestContext extends AnswerTarget {
  endpoint: Endpoint;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  body: Record<string, unknown>;
}

const DONE = Buffer.from('data: [DONE]\n\n');
const COMPLETION: FakeBehaviour = { kind: 'completion' };
const CACHE_LIMIT = 256;
const ENDPOINTS: Record<string, Endpoint> = {
  '/v1/chat/completions': 'chat',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
};

function prepareStream(chunks: unknown[]): PreparedStream {
  const events = chunks.map((c) => Buffer.from(`data: ${JSON.stringify(c)}\n\n`));
  events.push(DONE);
  return { events, all: Buffer.concat(events) };
}

function errorHeaders(e: FakeError): Record<string, string> {
  const headers: Record<string, string> = { ...e.headers };
  if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
  if (e.retryAfterMs !== undefined) headers['retry-after-ms'] = String(e.retryAfterMs);
  return headers;
}

function maskKey(key: string): string {
  return key.length <= 8 ? '***' : `${key.slice(0, 3)}***${key.slice(-4)}`;
}

/** How many inputs an embeddings request carries: a string, a token array, or an array of either. */
function embeddingInputs(input: unknown): number | undefined {
  if (typeof input === 'string') return 1;
  if (!Array.isArray(input) || input.length === 0) return undefined;
  return typeof input[0] === 'number' ? 1 : input.length;
}

const AZURE_PATHS: Record<string, Endpoint> = { '/chat/completions': 'chat', '/completions': 'completions', '/embeddings': 'embeddings' };
const AZURE_UNAUTHORISED = azureErrorBody(
  '401',
  'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
);

interface AzureFlavour {
  bearerToken: string | undefined;
  apiVersions: readonly string[];
}

class FakeOpenAIServer extends FakeUpstreamServer<FakeBehaviour> implements FakeOpenAI, FakeAzureOpenAI {
  private readonly azure: AzureFlavour | undefined;
  private readonly embeddingCache = new Map<string, Prepared>();
  private readonly modelsBody: Prepared;
  private readonly modelBodies: Map<string, Prepared>;
  private readonly embeddingDimensions: number;
  private requestSeq = 0;

  constructor(options: StartFakeOpenAIOptions, azure?: AzureFlavour) {
    super(options, azure ? { name: 'Azure OpenAI', urlPath: '', builtInDefault: COMPLETION, echoHeaders: ['api-key'] } : { name: 'OpenAI', urlPath: '/v1', builtInDefault: COMPLETION, echoHeaders: ['authorization'] });
    this.azure = azure;
    this.embeddingDimensions = options.embeddingDimensions ?? 8;
    const created = unixNow();
    const ids = options.models ?? DEFAULT_MODELS;
    this.modelsBody = prepareJson(200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', created, owned_by: 'system' })) });
    this.modelBodies = new Map(ids.map((id) => [id, prepareJson(200, { id, object: 'model', created, owned_by: 'system' })]));
  }

  protected sendInternalError(res: ServerResponse, err: unknown): void {
    this.sendError(res, 500, errorBody(`fake upstream failed: ${String(err)}`, 'server_error'));
  }

  protected handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const { method, path, body, bodyIsJson, record } = this.read(req, raw);
    res.setHeader('x-request-id', `req_fake${(++this.requestSeq).toString(36)}`);

    let endpoint: Endpoint | undefined;
    let deployment: string | undefined;
    if (this.azure) {
      if ((this.apiKey !== undefined || this.azure.bearerToken !== undefined) && !this.azureAuthorised(req)) return this.send(res, prepareJson(401, AZURE_UNAUTHORISED));
      const route = this.azureRoute(method, path, new URLSearchParams(req.url?.split('?')[1] ?? '').get('api-version'));
      if ('error' in route) return this.send(res, route.error);
      ({ endpoint, deployment } = route);
    } else {
      if (this.apiKey !== undefined && !this.authorised(req, res)) return;
      endpoint = method === 'POST' ? ENDPOINTS[path] : undefined;
    }
    if (endpoint === undefined) {
      if (method === 'GET' && path === '/v1/models') return this.send(res, this.modelsBody);
      if (method === 'GET' && path.startsWith('/v1/models/')) {
        const id = decodeURIComponent(path.slice('/v1/models/'.length));
        const known = this.modelBodies.get(id);
        if (known) return this.send(res, known);
        return this.sendError(res, 404, errorBody(`The model '${id}' does not exist`, 'invalid_request_error', 'model', 'model_not_found'));
      }
      return this.sendError(res, 404, errorBody(`Invalid URL (${method} ${path})`, 'invalid_request_error'));
    }
    if (!bodyIsJson || typeof body !== 'object' || body === null || Array.isArray(body)) {
      return this.sendError(
        res,
        400,
        errorBody(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
          'invalid_request_error',
        ),
      );
    }
    const request = body as Record<string, unknown>;
    // Azure's deployments form takes the model from the path and ignores the body's.
    const model = deployment ?? request.model;
    if (typeof model !== 'string' || model === '') {
      return this.sendError(res, 400, errorBody('you must provide a model parameter', 'invalid_request_error'));
    }
    const streamOptions = request.stream_options as { include_usage?: unknown } | null | undefined;
    const ctx: RequestContext = {
      endpoint,
      model,
      stream: request.stream === true,
      includeUsage: request.stream === true && typeof streamOptions === 'object' && streamOptions !== null && streamOptions.include_usage === true,
      body: request,
      headers: req.headers,
      record,
      res,
    };
    this.answer(this.behaviours.next(ctx.model), ctx);
  }

  expectBearerToken(token: string | undefined): void {
    if (this.azure) this.azure.bearerToken = token;
  }

  /** Azure takes the resource key in api-key, or an Entra ID token as a bearer. */
  private azureAuthorised(req: IncomingMessage): boolean {
    if (this.apiKey !== undefined && req.headers['api-key'] === this.apiKey) return true;
    return this.azure?.bearerToken !== undefined && req.headers.authorization === `Bearer ${this.azure.bearerToken}`;
  }

  /** Azure's two URL forms; a path it does not serve is its 404, a missing or unknown api-version its 404 or 400. */
  private azureRoute(method: string, path: string, apiVersion: string | null): { endpoint: Endpoint; deployment?: string } | { error: Prepared } {
    const notFound = { error: prepareJson(404, azureErrorBody('404', 'Resource not found')) };
    if (method !== 'POST') return notFound;
    if (path.startsWith('/openai/v1/')) {
      const endpoint = AZURE_PATHS[path.slice('/openai/v1'.length)];
      if (!endpoint) return notFound;
      if (apiVersion !== null && apiVersion !== 'preview') return { error: prepareJson(400, azureErrorBody('BadRequest', 'API version not supported')) };
      return { endpoint };
    }
    const m = /^\/openai\/deployments\/([^/]+)(\/.*)$/.exec(path);
    const endpoint = m ? AZURE_PATHS[m[2]!] : undefined;
    if (!m || !endpoint || apiVersion === null) return notFound;
    if (!this.azure!.apiVersions.includes(apiVersion)) return { error: prepareJson(400, azureErrorBody('BadRequest', 'API version not supported')) };
    return { endpoint, deployment: decodeURIComponent(m[1]!) };
  }

  private authorised(req: IncomingMessage, res: ServerResponse): boolean {
    const header = req.headers.authorization;
    if (header === `Bearer ${this.apiKey}`) return true;
    if (header === undefined || !header.startsWith('Bearer ')) {
      this.sendError(
        res,
        401,
        errorBody(
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          'invalid_request_error',
        ),
      );
    } else {
      const given = header.slice('Bearer '.length);
      this.sendError(
        res,
        401,
        errorBody(`Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', null, 'invalid_api_key'),
      );
    }
    return false;
  }

  private answer(b: FakeBehaviour, ctx: RequestContext): void {
    const { res } = ctx;
    switch (b.kind) {
      case 'delay':
        return this.later(res, b.ms, () => this.answer(b.then ?? this.behaviours.fallback(ctx.model), ctx));
      case 'disconnect':
        res.socket?.destroy();
        return;
      case 'raw':
        return this.sendRaw(b, ctx);
      case 'error': {
        const echo = this.echo(b.echo, ctx);
        if (echo) {
          // Depends on the request: built for each one, never cached.
          const body = openAIError(b, ctx.model);
          if (echo.text) body.error.message = `${body.error.message} ${echo.text}`;
          return this.send(res, prepareJson(b.status, body, { ...errorHeaders(b), ...echo.headers }));
        }
        const key = `error|${ctx.model}`;
        const p = this.cached(b, key, () => prepareJson(b.status, openAIError(b, ctx.model), errorHeaders(b)));
        return this.send(res, p);
      }
      case 'completion':
      case 'stream': {
        if (ctx.endpoint === 'embeddings') return this.send(res, this.embeddings(ctx));
        const sse = b.kind === 'stream' || ctx.stream;
        const key = `${ctx.endpoint}|${sse ? (ctx.includeUsage ? 'sse+usage' : 'sse') : 'json'}|${ctx.model}`;
        if (!sse) {
          const p = this.cached(b, key, () => {
            const whole = ctx.endpoint === 'chat' ? chatCompletion(b, ctx.model) : textCompletion(b, ctx.model);
            return prepareJson(200, this.azure ? azureWhole(whole) : whole, b.headers);
          });
          return this.send(res, p, this.echo(b.echo, ctx)?.headers);
        }
        const s = this.cached(b, key, () => {
          const chunks = ctx.endpoint === 'chat' ? chatCompletionChunks(b, ctx.model, ctx.includeUsage) : textCompletionChunks(b, ctx.model, ctx.includeUsage);
          return prepareStream(this.azure ? azureChunks<{ choices: object[] }>(chunks) : chunks);
        });
        return this.stream(res, s, b, this.echo(b.echo, ctx));
      }
    }
  }

  private embeddings(ctx: RequestContext): Prepared {
    const inputs = embeddingInputs(ctx.body.input);
    if (inputs === undefined) {
      return prepareJson(400, errorBody("'input' is a required property", 'invalid_request_error', 'input'));
    }
    const asked = ctx.body.dimensions;
    const dimensions = typeof asked === 'number' && Number.isInteger(asked) && asked > 0 && asked <= 4096 ? asked : this.embeddingDimensions;
    const encoding = ctx.body.encoding_format === 'base64' ? 'base64' : 'float';
    const key = `${ctx.model}|${inputs}|${dimensions}|${encoding}`;
    let p = this.embeddingCache.get(key);
    if (!p) {
      if (this.embeddingCache.size >= CACHE_LIMIT) this.embeddingCache.clear();
      p = prepareJson(200, embeddingsResponse(ctx.model, inputs, dimensions, encoding));
      this.embeddingCache.set(key, p);
    }
    return p;
  }

  private sendError(res: ServerResponse, status: number, body: OpenAIErrorBody): void {
    this.send(res, prepareJson(status, body));
  }

  private stream(res: ServerResponse, s: PreparedStream, answer: FakeAnswer, echo: EchoOut | undefined): void {
    const failure = answer.streamError;
    const breakAfter = failure ? undefined : answer.breakAfterChunks;
    let events = breakAfter === undefined ? s.events : s.events.slice(0, Math.max(0, breakAfter));
    if (failure) {
      const message = failure.message ?? 'The server had an error while processing your request.';
      const error = errorBody(echo?.text ? `${message} ${echo.text}` : message, failure.type ?? 'server_error', null, failure.code ?? null);
      // The events before the error, never [DONE] (the last prepared event).
      events = [...s.events.slice(0, Math.min(Math.max(0, failure.afterChunks), s.events.length - 1)), Buffer.from(`data: ${JSON.stringify(error)}\n\n`)];
    }
    this.writeStream(res, events, { headers: answer.headers, echo, delayMs: answer.chunkDelayMs ?? 0, breakAfter, whole: events === s.events ? s.all : undefined });
  }
}

/** Starts a fake OpenAI upstream on 127.0.0.1 and a free port unless told otherwise. */
export async function startFakeOpenAI(options: StartFakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const fake = new FakeOpenAIServer(options);
  await fake.listen();
  return fake;
}

/** Starts a fake Azure OpenAI resource on 127.0.0.1 and a free port unless told otherwise. */
export async function startFakeAzureOpenAI(options: StartFakeAzureOpenAIOptions = {}): Promise<FakeAzureOpenAI> {
  const fake = new FakeOpenAIServer(options, { bearerToken: options.bearerToken, apiVersions: options.apiVersions ?? AZURE_API_VERSIONS });
  await fake.listen();
  return fake;
}
