import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { JsonLimits } from '#libs/json-limits';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, expiredKeyMessage, isExpired, type Principal } from '../auth/principal.js';
import { assertJsonWithinLimits, JsonLimitExceeded, jsonLimitsOf } from '../edge/json-body.js';
import { BodyScratch } from '../edge/body-scratch.js';
import { mintRequestId } from '../edge/request-id.js';
import { KeySpendLedger } from '../budgets/key-spend-ledger.js';
import { ReadModelService } from '../read-model/read-model.service.js';
import { anthropicResponseWriter } from './anthropic-response-writer.js';
import { ChatCompletionsEndpoint } from './chat-completions.endpoint.js';
import type { AnswerContext, ClientFormatWriter } from './client-format-writer.js';
import { CompletionsEndpoint } from './completions.endpoint.js';
import { CountTokensHandler } from './count-tokens.handler.js';
import { EmbeddingsEndpoint } from './embeddings.endpoint.js';
import { MessagesEndpoint } from './messages.endpoint.js';
import { openAIResponseWriter } from './openai-response-writer.js';
import type { V1Request } from './v1-request.js';

interface HotRoute {
  path: string;
  writer: ClientFormatWriter;
  handle: (call: V1Request) => Promise<void>;
  /** Whether a call costs money, so a spent hard budget refuses it (counting tokens does not). */
  spends: boolean;
}

/**
 * The gateway's hot path, served straight from node:http before Fastify sees the request: the
 * calls every client makes per completion skip the framework's routing, hooks, content-type
 * parsing and reply pipeline (measured by `npm run bench`). Each POST is authenticated with a gateway
 * key, its content type, size and JSON shape bounded, and handed to its endpoint; every answer,
 * errors included, is in the caller's format (OpenAI's, Anthropic's on /v1/messages) and carries
 * the gateway's x-request-id. Everything else (GET /v1/models, /v1's 404s) goes on to Fastify.
 */
@Injectable()
export class V1FrontDoor {
  private readonly logger = new Logger('V1');
  /** The largest request body /v1 reads (V1_MAX_BODY_BYTES); more is refused with 413 and never forwarded. */
  private readonly maxBodyBytes: number;
  private readonly jsonLimits: JsonLimits;
  private readonly routes: HotRoute[];
  /** Where a body of several socket reads is joined: checked and parsed at once, so one buffer serves every request. */
  private readonly bodies = new BodyScratch();

  constructor(
    private readonly readModel: ReadModelService,
    private readonly spend: KeySpendLedger,
    chat: ChatCompletionsEndpoint,
    completions: CompletionsEndpoint,
    embeddings: EmbeddingsEndpoint,
    messages: MessagesEndpoint,
    countTokens: CountTokensHandler,
    @Inject(APP_CONFIG) config: Readonly<AppConfig>,
  ) {
    this.maxBodyBytes = config.v1MaxBodyBytes;
    this.jsonLimits = jsonLimitsOf(config);
    // Most frequent first: the lookup is a few string comparisons.
    this.routes = [
      { path: '/v1/chat/completions', writer: openAIResponseWriter, handle: (c) => chat.handle(c), spends: true },
      { path: '/v1/messages', writer: anthropicResponseWriter, handle: (c) => messages.handle(c), spends: true },
      { path: '/v1/embeddings', writer: openAIResponseWriter, handle: (c) => embeddings.handle(c), spends: true },
      { path: '/v1/completions', writer: openAIResponseWriter, handle: (c) => completions.handle(c), spends: true },
      { path: '/v1/messages/count_tokens', writer: anthropicResponseWriter, handle: (c) => countTokens.handle(c), spends: false },
    ];
  }

  /** Serves the request when it is a hot /v1 call and answers true; false leaves it to Fastify. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'POST') return false;
    const url = req.url;
    if (url === undefined) return false;
    for (const route of this.routes) {
      if (isPath(url, route.path)) {
        this.receive(req, res, route);
        return true;
      }
    }
    return false;
  }

  /** The caller behind the request's gateway key (Authorization: Bearer, or Anthropic's x-api-key). */
  authenticate(req: IncomingMessage): { principal: Principal } | { missing: boolean } | { expired: Principal } {
    const token = bearerToken(req.headers);
    const principal = token ? this.readModel.principalForKey(token) : undefined;
    if (principal && isExpired(principal)) return { expired: principal };
    return principal ? { principal } : { missing: token === undefined };
  }

  private receive(req: IncomingMessage, res: ServerResponse, route: HotRoute): void {
    const ctx: AnswerContext = { requestId: mintRequestId() };
    const writer = route.writer;
    const auth = this.authenticate(req);
    if ('expired' in auth) {
      writer.writeRequestError(res, 401, { message: expiredKeyMessage(auth.expired), code: 'key_expired' }, ctx);
      return;
    }
    if (!('principal' in auth)) {
      const message = auth.missing
        ? writer.format === 'anthropic'
          ? 'Missing API key: send x-api-key or Authorization: Bearer <gateway key>.'
          : 'Missing API key: send Authorization: Bearer <gateway key>.'
        : 'Incorrect API key provided.';
      writer.writeRequestError(res, 401, { message, code: 'invalid_api_key' }, ctx); // node:http discards the unread body
      return;
    }
    if (route.spends && auth.principal.budget) {
      const refusal = this.spend.refusal(auth.principal);
      if (refusal) {
        writer.writeRequestError(res, 429, { message: refusal.message, code: 'budget_exceeded' }, ctx, { 'retry-after': String(refusal.retryAfterSeconds) });
        return;
      }
    }
    if (!isJson(req.headers['content-type'])) {
      writer.writeRequestError(res, 415, { message: 'Content-Type must be application/json.', code: 'unsupported_media_type', param: 'content-type' }, ctx);
      return;
    }
    if (Number(req.headers['content-length']) > this.maxBodyBytes) {
      this.tooLarge(res, writer, ctx);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxBodyBytes) {
        // Stop reading and holding the body; close once the 413 is out (destroying at once could drop it).
        chunks.length = 0;
        req.removeAllListeners('data');
        req.pause();
        if (!res.headersSent) this.tooLarge(res, writer, ctx);
        if (res.writableFinished) req.destroy();
        else res.once('finish', () => req.destroy());
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => undefined); // the client went away mid-body: nobody to answer
    req.on('end', () => {
      if (size > this.maxBodyBytes) return;
      // Valid until the next request's join: read synchronously below and not kept.
      const bytes = this.bodies.join(chunks, size);
      let body: unknown;
      try {
        // Bounded before parsed: a body of a million tiny objects or nested 10,000 deep never becomes objects.
        assertJsonWithinLimits(bytes, this.jsonLimits);
        body = JSON.parse(bytes.toString('utf8'));
      } catch (err) {
        if (err instanceof JsonLimitExceeded) writer.writeRequestError(res, 400, { message: err.message, code: err.code, param: 'body' }, ctx);
        else writer.writeRequestError(res, 400, { message: 'The request body is not valid JSON.', code: 'invalid_json', param: 'body' }, ctx);
        return;
      }
      route.handle({ req, res, principal: auth.principal, body, requestId: ctx.requestId }).catch((err: unknown) => {
        this.logger.error(`[${ctx.requestId}] ${route.path} failed: ${(err as Error)?.stack ?? String(err)}`);
        if (!res.headersSent) writer.writeRequestError(res, 500, { message: 'internal error', code: 'internal_error' }, ctx);
        else res.destroy();
      });
    });
  }

  private tooLarge(res: ServerResponse, writer: ClientFormatWriter, ctx: AnswerContext): void {
    res.shouldKeepAlive = false; // do not read the rest of a body this large
    writer.writeRequestError(res, 413, { message: `The request body is larger than ${this.maxBodyBytes} bytes.`, code: 'request_too_large', param: 'body' }, ctx, { connection: 'close' });
  }
}

function isPath(url: string, path: string): boolean {
  return url.startsWith(path) && (url.length === path.length || url.charCodeAt(path.length) === 63 /* ? */);
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}
