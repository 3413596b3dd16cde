import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeAnthropicAnswer, FakeAnthropicBehaviour } from './anthropic-behaviour.js';
import { FakeUpstreamServer, prepareJson, type AnswerTarget, type EchoOut, type FakeUpstream, type Prepared } from './fake-upstream-server.js';
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
 * Requests are recorded in the same `RecordedRequest` shape as the OpenAI fake's.
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

/** Takes behaviours at POST /v1/messages and /v1/messages/count_tokens; the expected key comes as `x-api-key` or a bearer key. */
export interface FakeAnthropic extends FakeUpstream<FakeAnthropicBehaviour> {
  /** Base URL without /v1, e.g. http://127.0.0.1:41234: the Anthropic SDK's `baseURL` appends /v1 itself. */
  readonly url: string;
}

interface RequestContext extends AnswerTarget {
  path: '/v1/messages' | '/v1/messages/count_tokens';
  model: string;
  stream: boolean;
  body: Record<string, unknown>;
  requestId: string;
}

const MESSAGE: FakeAnthropicBehaviour = { kind: 'message' };

class FakeAnthropicServer extends FakeUpstreamServer<FakeAnthropicBehaviour> implements FakeAnthropic {
  private readonly modelsBody: Prepared;
  private readonly models: ReadonlySet<string>;
  private readonly requireVersion: boolean;
  private requestSeq = 0;

  constructor(options: StartFakeAnthropicOptions) {
    super(options, { name: 'Anthropic', urlPath: '', builtInDefault: MESSAGE, echoHeaders: ['x-api-key', 'authorization'] });
    this.requireVersion = options.requireVersion ?? true;
    const ids = options.models ?? DEFAULT_ANTHROPIC_MODELS;
    this.models = new Set(ids);
    this.modelsBody = prepareJson(200, anthropicModelList(ids));
  }

  protected sendInternalError(res: ServerResponse, err: unknown): void {
    this.sendError(res, 500, anthropicErrorBody('api_error', `fake upstream failed: ${String(err)}`, String(res.getHeader('request-id'))));
  }

  protected handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const requestId = `req_fake${(++this.requestSeq).toString(36).padStart(8, '0')}`;
    // Every answer carries it, as the API's do; error bodies repeat it. Set first, so that even
    // sendInternalError finds it.
    res.setHeader('request-id', requestId);
    const { method, path, body, bodyIsJson, record } = this.read(req, raw);

    if (this.apiKey !== undefined && !this.authorised(req, res, requestId)) return;
    if (this.requireVersion && req.headers['anthropic-version'] === undefined) {
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
    this.answer(this.behaviours.next(ctx.model), ctx);
  }

  private authorised(req: IncomingMessage, res: ServerResponse, requestId: string): boolean {
    const key = req.headers['x-api-key'];
    const bearer = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice('Bearer '.length) : undefined;
    if (key === this.apiKey || bearer === this.apiKey) return true;
    const message = key === undefined && bearer === undefined ? 'x-api-key header is required' : 'invalid x-api-key';
    this.sendError(res, 401, anthropicErrorBody('authentication_error', message, requestId));
    return false;
  }

  private answer(b: FakeAnthropicBehaviour, ctx: RequestContext): void {
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
          const p = this.cached(b, `json|${ctx.model}`, () => prepareJson(200, anthropicMessage(b, resolveAnswer(b, ctx.model)), b.headers));
          return this.send(res, p, echo?.headers);
        }
        const events = this.cached(b, `sse|${ctx.model}`, () => anthropicStreamEvents(b, resolveAnswer(b, ctx.model)).map((e) => Buffer.from(sseEvent(e))));
        return this.stream(res, events, b, echo);
      }
    }
  }

  private sendError(res: ServerResponse, status: number, body: AnthropicErrorBody): void {
    this.send(res, prepareJson(status, body));
  }

  private stream(res: ServerResponse, prepared: Buffer[], answer: FakeAnthropicAnswer, echo: EchoOut | undefined): void {
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
    this.writeStream(res, events, { headers: answer.headers, echo, delayMs: answer.chunkDelayMs ?? 0, breakAfter });
  }
}

/** Starts a fake Anthropic upstream on 127.0.0.1 and a free port unless told otherwise. */
export async function startFakeAnthropic(options: StartFakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const fake = new FakeAnthropicServer(options);
  await fake.listen();
  return fake;
}
