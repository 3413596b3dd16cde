import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeAnswer, FakeBehaviour, FakeEcho, FakeError } from './fake-behaviour.js';
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

export interface RecordedRequest {
  method: string;
  /** The path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  /** The query string without `?`, '' when none. */
  query: string;
  /** As Node gives them: names lower-cased. */
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  receivedAt: number;
  /** The credential texts an `echo` behaviour sent back (each form of each header), so a test can see the echo happened. */
  echoed?: string[];
}

export interface FakeOpenAI {
  /** Base URL ending in /v1, e.g. http://127.0.0.1:41234/v1. */
  readonly url: string;
  readonly port: number;
  /** Requests received since start or the last reset(), oldest first (empty while recording is off). */
  readonly requests: readonly RecordedRequest[];
  recording: boolean;
  /** Queues answers for the next POST /v1/* requests, whatever their model. */
  enqueue(...behaviours: FakeBehaviour[]): void;
  /** Queues answers for the next requests naming this model; taken before the global queue. */
  script(model: string, ...behaviours: FakeBehaviour[]): void;
  /** The answer when the queues are empty, for one model or (without `model`) for all. undefined removes it. */
  setDefault(behaviour: FakeBehaviour | undefined, model?: string): void;
  /** The bearer key requests must carry; undefined accepts any request. */
  expectApiKey(key: string | undefined): void;
  /** Queued behaviours not used yet (global queue plus every model's script). */
  pending(): number;
  /** Resolves once at least `count` requests were recorded. */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly RecordedRequest[]>;
  /** Forgets recorded requests, queues, scripts and defaults (not the expected key). */
  reset(): void;
  close(): Promise<void>;
}

type Endpoint = 'chat' | 'completions' | 'embeddings';

interface Prepared {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

interface PreparedStream {
  /** One `data: …\n\n` event per element, `[DONE]` last. */
  events: Buffer[];
  /** All events in one buffer, for streams written at once. */
  all: Buffer;
}

interface RequestContext {
  endpoint: Endpoint;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** This request's record, when recording. */
  record: RecordedRequest | undefined;
  res: ServerResponse;
}

/** What an echo adds to an answer: text for its message, and response headers. */
interface EchoOut {
  /** '' when the message is not to carry it. */
  text: string;
  headers: Record<string, string>;
}

const JSON_TYPE = 'application/json';
const SSE_HEADERS: OutgoingHttpHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const DONE = Buffer.from('data: [DONE]\n\n');
const COMPLETION: FakeBehaviour = { kind: 'completion' };
const CACHE_LIMIT = 256;
const ENDPOINTS: Record<string, Endpoint> = {
  '/v1/chat/completions': 'chat',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
};

function prepareJson(status: number, value: unknown, extraHeaders?: Record<string, string>): Prepared {
  const body = Buffer.from(JSON.stringify(value));
  return { status, headers: { ...extraHeaders, 'content-type': JSON_TYPE, 'content-length': body.length }, body };
}

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

class FakeOpenAIServer implements FakeOpenAI {
  url = '';
  port = 0;
  recording: boolean;
  private readonly recorded: RecordedRequest[] = [];
  private readonly queue: FakeBehaviour[] = [];
  private readonly scripts = new Map<string, FakeBehaviour[]>();
  private readonly modelDefaults = new Map<string, FakeBehaviour>();
  private globalDefault: FakeBehaviour | undefined;
  private apiKey: string | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<{ count: number; resolve: () => void }>();
  private readonly prepared = new WeakMap<FakeBehaviour, Map<string, Prepared | PreparedStream>>();
  private readonly embeddingCache = new Map<string, Prepared>();
  private readonly modelsBody: Prepared;
  private readonly modelBodies: Map<string, Prepared>;
  private requestSeq = 0;
  readonly server: http.Server;

  constructor(private readonly options: StartFakeOpenAIOptions) {
    this.recording = options.record ?? true;
    this.apiKey = options.apiKey;
    this.globalDefault = options.defaultBehaviour;
    const created = unixNow();
    const ids = options.models ?? DEFAULT_MODELS;
    this.modelsBody = prepareJson(200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', created, owned_by: 'system' })) });
    this.modelBodies = new Map(ids.map((id) => [id, prepareJson(200, { id, object: 'model', created, owned_by: 'system' })]));
    this.server = http.createServer((req, res) => this.onRequest(req, res));
  }

  get requests(): readonly RecordedRequest[] {
    return this.recorded;
  }

  enqueue(...behaviours: FakeBehaviour[]): void {
    this.queue.push(...behaviours);
  }

  script(model: string, ...behaviours: FakeBehaviour[]): void {
    const list = this.scripts.get(model) ?? [];
    list.push(...behaviours);
    this.scripts.set(model, list);
  }

  setDefault(behaviour: FakeBehaviour | undefined, model?: string): void {
    if (model === undefined) this.globalDefault = behaviour;
    else if (behaviour === undefined) this.modelDefaults.delete(model);
    else this.modelDefaults.set(model, behaviour);
  }

  expectApiKey(key: string | undefined): void {
    this.apiKey = key;
  }

  pending(): number {
    let n = this.queue.length;
    for (const list of this.scripts.values()) n += list.length;
    return n;
  }

  waitForRequests(count: number, timeoutMs = 5000): Promise<readonly RecordedRequest[]> {
    if (this.recorded.length >= count) return Promise.resolve(this.recorded);
    return new Promise((resolve, reject) => {
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.recorded);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`fake OpenAI: ${this.recorded.length} of ${count} requests after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  reset(): void {
    this.recorded.length = 0;
    this.queue.length = 0;
    this.scripts.clear();
    this.modelDefaults.clear();
    this.globalDefault = this.options.defaultBehaviour;
  }

  async listen(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    this.url = `http://${shownHost}:${this.port}/v1`;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.handle(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      } catch (err) {
        if (!res.headersSent) this.sendError(res, 500, errorBody(`fake upstream failed: ${String(err)}`, 'server_error'));
        else res.destroy();
      }
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    let body: unknown;
    let bodyIsJson = raw.length === 0;
    if (raw.length > 0) {
      const text = raw.toString('utf8');
      try {
        body = JSON.parse(text);
        bodyIsJson = true;
      } catch {
        body = text;
      }
    }
    const record: RecordedRequest | undefined = this.recording ? { method, path, query: q === -1 ? '' : url.slice(q + 1), headers: req.headers, body, receivedAt: Date.now() } : undefined;
    if (record) this.record(record);
    res.setHeader('x-request-id', `req_fake${(++this.requestSeq).toString(36)}`);

    if (this.apiKey !== undefined && !this.authorised(req, res)) return;

    const endpoint = method === 'POST' ? ENDPOINTS[path] : undefined;
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
    if (typeof request.model !== 'string' || request.model === '') {
      return this.sendError(res, 400, errorBody('you must provide a model parameter', 'invalid_request_error'));
    }
    const streamOptions = request.stream_options as { include_usage?: unknown } | null | undefined;
    const ctx: RequestContext = {
      endpoint,
      model: request.model,
      stream: request.stream === true,
      includeUsage: request.stream === true && typeof streamOptions === 'object' && streamOptions !== null && streamOptions.include_usage === true,
      body: request,
      headers: req.headers,
      record,
      res,
    };
    this.answer(this.nextBehaviour(ctx.model), ctx);
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

  private record(r: RecordedRequest): void {
    this.recorded.push(r);
    for (const w of this.waiters) {
      if (this.recorded.length >= w.count) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  private nextBehaviour(model: string): FakeBehaviour {
    const scripted = this.scripts.get(model);
    if (scripted && scripted.length > 0) return scripted.shift()!;
    if (this.queue.length > 0) return this.queue.shift()!;
    return this.modelDefaults.get(model) ?? this.globalDefault ?? COMPLETION;
  }

  private answer(b: FakeBehaviour, ctx: RequestContext): void {
    const { res } = ctx;
    switch (b.kind) {
      case 'delay':
        return this.later(res, b.ms, () => this.answer(b.then ?? this.modelDefaults.get(ctx.model) ?? this.globalDefault ?? COMPLETION, ctx));
      case 'disconnect':
        res.socket?.destroy();
        return;
      case 'raw': {
        const echo = this.echo(b.echo, ctx);
        res.writeHead(b.status ?? 200, { 'content-type': JSON_TYPE, ...b.headers, ...echo?.headers });
        res.end(echo?.text ? `${b.body} ${echo.text}` : b.body);
        return;
      }
      case 'error': {
        const echo = this.echo(b.echo, ctx);
        if (echo) {
          // Depends on the request: built for each one, never cached.
          const body = openAIError(b, ctx.model);
          if (echo.text) body.error.message = `${body.error.message} ${echo.text}`;
          return this.send(res, prepareJson(b.status, body, { ...errorHeaders(b), ...echo.headers }));
        }
        const key = `error|${ctx.model}`;
        const p = this.cached(b, key, () => prepareJson(b.status, openAIError(b, ctx.model), errorHeaders(b))) as Prepared;
        return this.send(res, p);
      }
      case 'completion':
      case 'stream': {
        if (ctx.endpoint === 'embeddings') return this.send(res, this.embeddings(ctx));
        const sse = b.kind === 'stream' || ctx.stream;
        const key = `${ctx.endpoint}|${sse ? (ctx.includeUsage ? 'sse+usage' : 'sse') : 'json'}|${ctx.model}`;
        if (!sse) {
          const p = this.cached(b, key, () =>
            prepareJson(200, ctx.endpoint === 'chat' ? chatCompletion(b, ctx.model) : textCompletion(b, ctx.model), b.headers),
          ) as Prepared;
          return this.send(res, p, this.echo(b.echo, ctx)?.headers);
        }
        const s = this.cached(b, key, () =>
          prepareStream(ctx.endpoint === 'chat' ? chatCompletionChunks(b, ctx.model, ctx.includeUsage) : textCompletionChunks(b, ctx.model, ctx.includeUsage)),
        ) as PreparedStream;
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
    const dimensions = typeof asked === 'number' && Number.isInteger(asked) && asked > 0 && asked <= 4096 ? asked : (this.options.embeddingDimensions ?? 8);
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

  /** The serialised answer of a behaviour for one shape of request, built on first use. */
  private cached(b: FakeBehaviour, key: string, build: () => Prepared | PreparedStream): Prepared | PreparedStream {
    let byKey = this.prepared.get(b);
    if (!byKey) {
      byKey = new Map();
      this.prepared.set(b, byKey);
    }
    let p = byKey.get(key);
    if (!p) {
      if (byKey.size >= CACHE_LIMIT) byKey.clear();
      p = build();
      byKey.set(key, p);
    }
    return p;
  }

  private send(res: ServerResponse, p: Prepared, extraHeaders?: Record<string, string>): void {
    res.writeHead(p.status, extraHeaders ? { ...p.headers, ...extraHeaders } : p.headers);
    res.end(p.body);
  }

  /** The request's credentials as `echo` asks to send them back; recorded on the request. */
  private echo(echo: FakeEcho | undefined, ctx: RequestContext): EchoOut | undefined {
    if (!echo) return undefined;
    const parts: string[] = [];
    const values: string[] = [];
    for (const name of echo.headers ?? ['authorization']) {
      const sent = ctx.headers[name.toLowerCase()];
      let value = Array.isArray(sent) ? sent.join(', ') : sent;
      if (value === undefined) continue;
      if (name.toLowerCase() === 'authorization') value = value.replace(/^Bearer\s+/i, '');
      for (const form of echo.forms ?? (['plain', 'base64', 'hex'] as const)) {
        const encoded = form === 'plain' ? value : Buffer.from(value, 'utf8').toString(form);
        values.push(encoded);
        parts.push(`${name} (${form}): ${encoded}`);
      }
    }
    if (ctx.record) (ctx.record.echoed ??= []).push(...values);
    const text = parts.length > 0 ? `Received ${parts.join('; ')}.` : '';
    const headers: Record<string, string> = {};
    for (const name of echo.inResponseHeaders ?? []) headers[name] = text;
    return { text: echo.inMessage === false ? '' : text, headers };
  }

  private sendError(res: ServerResponse, status: number, body: OpenAIErrorBody): void {
    this.send(res, prepareJson(status, body));
  }

  private stream(res: ServerResponse, s: PreparedStream, answer: FakeAnswer, echo: EchoOut | undefined): void {
    res.writeHead(200, answer.headers || echo ? { ...SSE_HEADERS, ...answer.headers, ...echo?.headers } : SSE_HEADERS);
    const delay = answer.chunkDelayMs ?? 0;
    const failure = answer.streamError;
    const breakAfter = failure ? undefined : answer.breakAfterChunks;
    let events = breakAfter === undefined ? s.events : s.events.slice(0, Math.max(0, breakAfter));
    if (failure) {
      const message = failure.message ?? 'The server had an error while processing your request.';
      const error = errorBody(echo?.text ? `${message} ${echo.text}` : message, failure.type ?? 'server_error', null, failure.code ?? null);
      // The events before the error, never [DONE] (the last prepared event).
      events = [...s.events.slice(0, Math.min(Math.max(0, failure.afterChunks), s.events.length - 1)), Buffer.from(`data: ${JSON.stringify(error)}\n\n`)];
    }
    if (delay <= 0 && breakAfter === undefined) {
      res.end(events === s.events ? s.all : Buffer.concat(events));
      return;
    }
    if (events.length === 0) {
      // Break before any event: the headers go out, then the connection drops.
      res.flushHeaders();
      this.later(res, 10, () => res.destroy());
      return;
    }
    let i = 0;
    const writeNext = (): void => {
      const event = events[i++]!;
      if (i < events.length) {
        res.write(event);
        if (delay > 0) this.later(res, delay, writeNext);
        else writeNext();
      } else if (breakAfter === undefined) {
        res.end(event);
      } else {
        // Destroy only once the event has left, so the client sees exactly `breakAfter` events.
        res.write(event, () => res.destroy());
      }
    };
    writeNext();
  }

  /** A timer that dies with the response or the server. */
  private later(res: ServerResponse, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      res.off('close', cancel);
      if (!res.destroyed) fn();
    }, ms);
    const cancel = (): void => {
      clearTimeout(timer);
      this.timers.delete(timer);
    };
    this.timers.add(timer);
    res.once('close', cancel);
  }
}

/** Starts a fake OpenAI upstream on 127.0.0.1 and a free port unless told otherwise. */
export async function startFakeOpenAI(options: StartFakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const fake = new FakeOpenAIServer(options);
  await fake.listen();
  return fake;
}
