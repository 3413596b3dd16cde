import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeAnthropicAnswer, FakeAnthropicBehaviour } from './anthropic-behaviour.js';
import type { FakeEcho } from './fake-behaviour.js';
import type { RecordedRequest } from './fake-openai.js';
import {
  anthropicError,
  anthropicErrorBody,
  anthropicMessage,
  anthropicModelInfo,
  anthropicModelList,
  anthropicStreamEvents,
  DEFAULT_ANTHROPIC_MODELS,
  estimateInputTokens,
  rateLimitHeaders,
  resolveAnswer,
  sseEvent,
  type AnthropicErrorBody,
} from './anthropic-wire.js';

/**
 * A fake Anthropic upstream: node:http only, the Messages API's real wire format (JSON, SSE with
 * `event:` lines, errors with `request-id`), driven by the test the same way as the OpenAI fake.
 * Requests are recorded in the OpenAI fake's `RecordedRequest` shape.
 */

export interface StartFakeAnthropicOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** When set, every request must carry `x-api-key: <apiKey>` (or `Authorization: Bearer <apiKey>`); 401 authentication_error otherwise. */
  apiKey?: string;
  /** Refuse a request without `anthropic-version` with 400, as the API does (default true). */
  requireVersion?: boolean;
  /** Record every request (default true); turn off for benchmarks. */
  record?: boolean;
  /** What GET /v1/models lists. */
  models?: readonly string[];
  /** The answer when no behaviour is queued (default: a message, JSON or SSE as the request asks). */
  defaultBehaviour?: FakeAnthropicBehaviour;
}

export interface FakeAnthropic {
  /** Base URL without /v1, e.g. http://127.0.0.1:41234: the Anthropic SDK's `baseURL` appends /v1 itself. */
  readonly url: string;
  readonly port: number;
  readonly requests: readonly RecordedRequest[];
  recording: boolean;
  /** Queues answers for the next POST /v1/messages(/count_tokens) requests, whatever their model. */
  enqueue(...behaviours: FakeAnthropicBehaviour[]): void;
  /** Queues answers for the next requests naming this model; taken before the global queue. */
  script(model: string, ...behaviours: FakeAnthropicBehaviour[]): void;
  setDefault(behaviour: FakeAnthropicBehaviour | undefined, model?: string): void;
  /** The key requests must carry; undefined accepts any request. */
  expectApiKey(key: string | undefined): void;
  pending(): number;
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly RecordedRequest[]>;
  /** Forgets recorded requests, queues, scripts and defaults (not the expected key). */
  reset(): void;
  close(): Promise<void>;
}

interface Prepared {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

interface RequestContext {
  path: '/v1/messages' | '/v1/messages/count_tokens';
  model: string;
  stream: boolean;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  requestId: string;
  record: RecordedRequest | undefined;
  res: ServerResponse;
}

interface EchoOut {
  text: string;
  headers: Record<string, string>;
}

const JSON_TYPE = 'application/json';
const SSE_HEADERS: OutgoingHttpHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const MESSAGE: FakeAnthropicBehaviour = { kind: 'message' };
const CACHE_LIMIT = 256;

function prepareJson(status: number, value: unknown, extraHeaders?: Record<string, string>): Prepared {
  const body = Buffer.from(JSON.stringify(value));
  return { status, headers: { ...extraHeaders, 'content-type': JSON_TYPE, 'content-length': body.length }, body };
}

class FakeAnthropicServer implements FakeAnthropic {
  url = '';
  port = 0;
  recording: boolean;
  private readonly recorded: RecordedRequest[] = [];
  private readonly queue: FakeAnthropicBehaviour[] = [];
  private readonly scripts = new Map<string, FakeAnthropicBehaviour[]>();
  private readonly modelDefaults = new Map<string, FakeAnthropicBehaviour>();
  private globalDefault: FakeAnthropicBehaviour | undefined;
  private apiKey: string | undefined;
  private readonly waiters = new Set<{ count: number; resolve: () => void }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Serialised answers per behaviour and request shape: the benchmark's hot path stringifies nothing. */
  private readonly prepared = new WeakMap<FakeAnthropicBehaviour, Map<string, Prepared | Buffer[]>>();
  private readonly modelsBody: Prepared;
  private readonly models: ReadonlySet<string>;
  private requestSeq = 0;
  private readonly server: http.Server;

  constructor(private readonly options: StartFakeAnthropicOptions) {
    this.recording = options.record ?? true;
    this.apiKey = options.apiKey;
    this.globalDefault = options.defaultBehaviour;
    const ids = options.models ?? DEFAULT_ANTHROPIC_MODELS;
    this.models = new Set(ids);
    this.modelsBody = prepareJson(200, anthropicModelList(ids));
    this.server = http.createServer((req, res) => this.onRequest(req, res));
  }

  get requests(): readonly RecordedRequest[] {
    return this.recorded;
  }

  enqueue(...behaviours: FakeAnthropicBehaviour[]): void {
    this.queue.push(...behaviours);
  }

  script(model: string, ...behaviours: FakeAnthropicBehaviour[]): void {
    const list = this.scripts.get(model) ?? [];
    list.push(...behaviours);
    this.scripts.set(model, list);
  }

  setDefault(behaviour: FakeAnthropicBehaviour | undefined, model?: string): void {
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
        reject(new Error(`fake Anthropic: ${this.recorded.length} of ${count} requests after ${timeoutMs} ms`));
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
    this.url = `http://${shownHost}:${this.port}`;
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
      const requestId = `req_fake${(++this.requestSeq).toString(36).padStart(8, '0')}`;
      // Every answer carries it, as the API's do; error bodies repeat it.
      res.setHeader('request-id', requestId);
      try {
        this.handle(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), requestId);
      } catch (err) {
        if (!res.headersSent) this.sendError(res, 500, anthropicErrorBody('api_error', `fake upstream failed: ${String(err)}`, requestId));
        else res.destroy();
      }
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse, raw: Buffer, requestId: string): void {
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

    if (this.apiKey !== undefined && !this.authorised(req, res, requestId)) return;
    if ((this.options.requireVersion ?? true) && req.headers['anthropic-version'] === undefined) {
      return this.sendError(res, 400, anthropicErrorBody('invalid_request_error', 'anthropic-version: header is required', requestId));
    }

    if (method === 'GET' && path === '/v1/models') return this.send(res, this.modelsBody);
    if (method === 'GET' && path.startsWith('/v1/models/')) {
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      if (this.models.has(id)) return this.send(res, prepareJson(200, anthropicModelInfo(id)));
      return this.sendError(res, 404, anthropicErrorBody('not_found_error', `model: ${id}`, requestId));
    }
    if (method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) {
      return this.sendError(res, 404, anthropicErrorBody('not_found_error', 'Not found', requestId));
    }
    if (!bodyIsJson || typeof body !== 'object' || body === null || Array.isArray(body)) {
      return this.sendError(res, 400, anthropicErrorBody('invalid_request_error', 'There was an issue with your request body: it is not valid JSON.', requestId));
    }
    const request = body as Record<string, unknown>;
    // The API names the first missing required field this way.
    const required = path === '/v1/messages' ? ['model', 'max_tokens', 'messages'] : ['model', 'messages'];
    const missing = required.find((f) => request[f] === undefined);
    if (missing) return this.sendError(res, 400, anthropicErrorBody('invalid_request_error', `${missing}: Field required`, requestId));
    if (typeof request.model !== 'string' || request.model === '') {
      return this.sendError(res, 400, anthropicErrorBody('invalid_request_error', 'model: Input should be a valid string', requestId));
    }
    const ctx: RequestContext = { path, model: request.model, stream: request.stream === true, body: request, headers: req.headers, requestId, record, res };
    this.answer(this.nextBehaviour(ctx.model), ctx);
  }

  private authorised(req: IncomingMessage, res: ServerResponse, requestId: string): boolean {
    const key = req.headers['x-api-key'];
    const bearer = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice('Bearer '.length) : undefined;
    if (key === this.apiKey || bearer === this.apiKey) return true;
    const message = key === undefined && bearer === undefined ? 'x-api-key header is required' : 'invalid x-api-key';
    this.sendError(res, 401, anthropicErrorBody('authentication_error', message, requestId));
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

  private nextBehaviour(model: string): FakeAnthropicBehaviour {
    const scripted = this.scripts.get(model);
    if (scripted && scripted.length > 0) return scripted.shift()!;
    if (this.queue.length > 0) return this.queue.shift()!;
    return this.fallback(model);
  }

  private fallback(model: string): FakeAnthropicBehaviour {
    return this.modelDefaults.get(model) ?? this.globalDefault ?? MESSAGE;
  }

  private answer(b: FakeAnthropicBehaviour, ctx: RequestContext): void {
    const { res } = ctx;
    switch (b.kind) {
      case 'delay':
        return this.later(res, b.ms, () => this.answer(b.then ?? this.fallback(ctx.model), ctx));
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
        const body = anthropicError(b, ctx.requestId);
        if (echo?.text) body.error.message = `${body.error.message} ${echo.text}`;
        const headers: Record<string, string> = {};
        if (b.status === 429 && b.rateLimitHeaders !== false) Object.assign(headers, rateLimitHeaders(b.retryAfter));
        if (b.retryAfter !== undefined) headers['retry-after'] = String(b.retryAfter);
        return this.send(res, prepareJson(b.status, body, { ...headers, ...b.headers, ...echo?.headers }));
      }
      case 'tokens':
        if (ctx.path !== '/v1/messages/count_tokens') {
          return this.sendError(res, 500, anthropicErrorBody('api_error', 'fake Anthropic: a `tokens` behaviour was queued but POST /v1/messages came', ctx.requestId));
        }
        return this.send(res, prepareJson(200, { input_tokens: b.inputTokens }));
      case 'message':
      case 'stream': {
        if (ctx.path === '/v1/messages/count_tokens') return this.send(res, prepareJson(200, { input_tokens: estimateInputTokens(ctx.body) }));
        const echo = this.echo(b.echo, ctx);
        if (b.kind === 'message' && !ctx.stream) {
          const p = this.cached(b, `json|${ctx.model}`, () => prepareJson(200, anthropicMessage(b, resolveAnswer(b, ctx.model)), b.headers)) as Prepared;
          return this.send(res, p, echo?.headers);
        }
        const events = this.cached(b, `sse|${ctx.model}`, () => anthropicStreamEvents(b, resolveAnswer(b, ctx.model)).map((e) => Buffer.from(sseEvent(e)))) as Buffer[];
        return this.stream(res, events, b, echo);
      }
    }
  }

  private cached(b: FakeAnthropicBehaviour, key: string, build: () => Prepared | Buffer[]): Prepared | Buffer[] {
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

  private sendError(res: ServerResponse, status: number, body: AnthropicErrorBody): void {
    this.send(res, prepareJson(status, body));
  }

  /** The request's credentials as `echo` asks to send them back; recorded on the request. */
  private echo(echo: FakeEcho | undefined, ctx: RequestContext): EchoOut | undefined {
    if (!echo) return undefined;
    const parts: string[] = [];
    const values: string[] = [];
    for (const name of echo.headers ?? ['x-api-key', 'authorization']) {
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

  private stream(res: ServerResponse, prepared: Buffer[], answer: FakeAnthropicAnswer, echo: EchoOut | undefined): void {
    res.writeHead(200, answer.headers || echo ? { ...SSE_HEADERS, ...answer.headers, ...echo?.headers } : SSE_HEADERS);
    const delay = answer.chunkDelayMs ?? 0;
    const failure = answer.streamError;
    const breakAfter = failure ? undefined : answer.breakAfterEvents;
    let events = breakAfter === undefined ? prepared : prepared.slice(0, Math.max(0, breakAfter));
    if (failure) {
      const message = failure.message ?? 'Overloaded';
      const error = { type: 'error', error: { type: failure.type ?? 'overloaded_error', message: echo?.text ? `${message} ${echo.text}` : message } };
      // The events before the error, never message_stop (the last prepared event).
      const before = prepared.slice(0, Math.min(Math.max(0, failure.afterEvents), prepared.length - 1));
      events = [...before, Buffer.from(`event: error\ndata: ${JSON.stringify(error)}\n\n`)];
    }
    if (delay <= 0 && breakAfter === undefined) {
      res.end(events.length === 1 ? events[0] : Buffer.concat(events));
      return;
    }
    if (events.length === 0) {
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

/** Starts a fake Anthropic upstream on 127.0.0.1 and a free port unless told otherwise. */
export async function startFakeAnthropic(options: StartFakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const fake = new FakeAnthropicServer(options);
  await fake.listen();
  return fake;
}
