import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  formatSseEvent,
  streamPartsFromResponse,
  type CanonicalStreamPart,
  type CanonicalUsage,
  type ChatResponse,
  type ClientRequestDecoded,
  type CompletionResponse,
  type Decoded,
  type SseEvent,
  type StreamDecoder,
} from '#libs/adapter-sdk';
import { GatewayAttr, GenAiAttr, type ProviderModelKind } from '#libs/contracts';
import type { SecretRedactor } from '#libs/secret-redaction';
import { TokenCounters, type TokenCount } from '#libs/tokenizer';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { InputLimit } from '../proxy/input-limit.js';
import { applyModelParameters, askedOutput, outputFillField, type ParameterFields } from './request-parameters.js';
import { ReadModelService, type Route } from '../read-model/read-model.service.js';
import { GatewayTracer } from '../telemetry/gateway-tracer.js';
import { invalidRequest, type CallFailure } from './call-failure.js';
import { CallMetering, REQUEST_ID_ATTRIBUTE } from './call-metering.js';
import { answerHeaders, writeJson, type AnswerContext, type ClientFormatWriter, type RequestError } from './client-format-writer.js';
import { relayStream, type PartEncoder } from './stream-relay.js';
import { UpstreamCallService, upstreamRequestId, type UpstreamAnswer } from './upstream-call.service.js';
import type { UpstreamExchange } from '../proxy/upstream-exchange.js';
import { FAILOVER_HEADER, parseFailoverHeader } from '../policy/failover-header.js';
import { RateLimitsService, type Admission } from '../limits/rate-limits.service.js';
import { estimateCallTokens } from '../limits/token-estimate.js';
import { mayCall, type Principal } from '../auth/principal.js';
import type { V1Request } from './v1-request.js';
import { ResponseCacheService } from '../cache/response-cache.service.js';
import type { CachedAnswer } from '../cache/response-cache.js';
import { routeIdentity } from '../cache/cache-key.js';

/** What an endpoint's answer is built from (ids and times the provider may not give). */
export interface EncodeContext {
  requestId: string;
  /** Unix seconds. */
  now: number;
  /** The gateway model name the client asked for. */
  model: string;
}

/**
 * One generation endpoint of /v1 (chat completions, completions, embeddings, messages): its client
 * format, its adapter operation and its codecs. The handlers are these descriptions; the steps they
 * share (route, limits, span, upstream call, answer) are GenerationCall's.
 */
export interface GenerationEndpoint<Canonical = unknown, CanonicalResponse = unknown> {
  operation: 'chat' | 'completion' | 'embedding';
  /** gen_ai.operation.name (one of MODEL_CALL_OPERATIONS). */
  spanOperation: 'chat' | 'text_completion' | 'embeddings';
  writer: ClientFormatWriter;
  /** Schema validation of the client's body (before any upstream is paid); undefined = valid. */
  validate(body: unknown): { message: string; param: string } | undefined;
  /** The client's body in canonical form, for targets of another format. */
  decode(body: Record<string, unknown>): ClientRequestDecoded<Canonical>;
  isStream(body: Record<string, unknown>): boolean;
  /** Where the body holds the model parameters (defaults, the name's parameters) and the output bound (maxOutputTokens). */
  parameterFields: ParameterFields;
  /** The text the model's maxInputTokens bounds. */
  promptText(body: Record<string, unknown>): string[];
  /** The field named when the input is too long. */
  promptParam: string;
  /** A canonical whole answer in the client's format. */
  encodeWhole(res: CanonicalResponse, ctx: EncodeContext, body: Record<string, unknown>): unknown;
  /** Canonical stream parts in the client's format (endpoints that stream). */
  createEncoder?(ctx: EncodeContext, body: Record<string, unknown>): PartEncoder;
  /** Pass-through streams: upstream events the client did not ask for (OpenAI's usage chunk). */
  passThroughDrop?(body: Record<string, unknown>): ((event: SseEvent, parts: readonly CanonicalStreamPart[]) => boolean) | undefined;
}

/** A key limited to some models (its allowedModels) asked for another. */
export function modelNotAllowed(model: string): RequestError {
  return { message: `This gateway key may not call the model \`${model}\`.`, code: 'model_not_allowed', param: 'model' };
}

const NO_ATTRIBUTES: Readonly<Record<string, never>> = Object.freeze({});

/** A call that stays on the one target the balancer picks (allocated once). */
const NO_FAILOVER = Object.freeze({ on: false, fallbacks: (): Iterable<Route> => [] });

/** Where a model of each kind is called. */
const KIND_ENDPOINTS: Record<ProviderModelKind, string> = {
  chat: 'POST /v1/chat/completions or POST /v1/messages',
  completion: 'POST /v1/completions',
  embedding: 'POST /v1/embeddings',
};

/** What an answer in another format than the upstream's is encoded with (a pass-through answer needs none). */
function encodeContext(ctx: AnswerContext, model: string): EncodeContext {
  return { requestId: ctx.requestId, now: Math.floor(Date.now() / 1000), model };
}

/** What writing one answer needs, whole or streamed. */
interface AnswerWriting<C, R> {
  res: ServerResponse;
  endpoint: GenerationEndpoint<C, R>;
  body: Record<string, unknown>;
  answer: UpstreamAnswer;
  op: ReadableOperation;
  headers: OutgoingHttpHeaders;
  /** The gateway model name the client asked for. */
  model: string;
  metering: CallMetering;
  ctx: AnswerContext;
}

/** What metering reads of any decoded whole answer (chat, completion, embedding). */
interface DecodedAnswer {
  model?: string;
  id?: string;
  usage?: CanonicalUsage;
  choices?: ReadonlyArray<{ rawFinishReason?: string; finishReason: string }>;
}

interface ReadableOperation {
  /** Embeddings read `options` (meteringOnly, headers), OpenAI-format chat meteringOnly; the others ignore it. */
  parseResponse(body: Uint8Array, options?: { meteringOnly?: boolean; headers?: IncomingHttpHeaders }): Decoded<unknown>;
  createStreamDecoder?(options?: { meteringOnly?: boolean }): StreamDecoder;
}

/**
 * The steps every generation endpoint shares: validate, route, enforce the model's limits, open the
 * call's span, make the upstream call (UpstreamCallService, which writes nothing), then answer
 * through the client format's writer: a whole answer, a stream (bytes passed through or parts
 * translated), or the failure. Exactly one span per call that got past routing.
 */
@Injectable()
export class GenerationCall implements OnApplicationShutdown {
  private readonly logger = new Logger('V1');
  private readonly tokenCounters = new TokenCounters();

  constructor(
    private readonly readModel: ReadModelService,
    private readonly calls: UpstreamCallService,
    private readonly tracer: GatewayTracer,
    private readonly rateLimits: RateLimitsService,
    private readonly responseCache: ResponseCacheService,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.tokenCounters.close();
  }

  /**
   * Counts a prompt as the model's definition says (its tokenizer, by the rule that prices it), for
   * the input limit and count_tokens' local estimate. Counts with the first target's upstream model:
   * a model's targets serve the same model, and its limits are the provider model's.
   */
  countPrompt(principal: Principal, route: Route, parts: string[]): Promise<TokenCount> {
    return this.tokenCounters.count(this.readModel.tokenizerFor(principal, route.targets[0].upstreamModel), parts);
  }

  async handle<C, R>(call: V1Request, endpoint: GenerationEndpoint<C, R>): Promise<void> {
    const { res, principal, requestId } = call;
    const ctx: AnswerContext = { requestId };
    const writer = endpoint.writer;
    const invalid = endpoint.validate(call.body);
    if (invalid) {
      writer.writeFailure(res, invalidRequest(invalid.message, invalid.param), ctx);
      return;
    }
    const body = call.body as Record<string, unknown>;
    const route = this.resolve(call, body, endpoint, ctx);
    if (!route) return;
    const failover = this.failoverOf(call, route, endpoint, ctx);
    if (!failover) return;
    const caching = this.responseCache.options(call);
    if ('error' in caching) {
      writer.writeRequestError(res, 400, { message: caching.error.message, code: 'invalid_cache_header', param: caching.error.param }, ctx);
      return;
    }
    // The name's parameters override the request's, the model's defaults fill what is left out (before the limits see the body).
    const fillField = outputFillField(endpoint.parameterFields, route.targets[0].connection.adapter);
    if (route.uriParameters) applyModelParameters(body, route.uriParameters, endpoint.parameterFields, true, fillField);
    applyModelParameters(body, route.defaultParameters, endpoint.parameterFields, false, fillField);
    const stream = endpoint.isStream(body);
    // The span opens once the model is resolved: every call answered from here on is recorded,
    // a refusal by the model's own limits too (as usage missing, with its error).
    const span = this.tracer.startClientSpan(
      `${endpoint.spanOperation} ${route.name}`,
      principal, // the key's tenant: the same object for every call of a key, so the span writes its ids' JSON once
      NO_ATTRIBUTES,
      call.req.headers,
    );
    // Set one by one: an object literal with computed keys is built key by key on every call (~0.8 us in json-c64's profile).
    span.setAttribute(GenAiAttr.operationName, endpoint.spanOperation);
    span.setAttribute(GenAiAttr.streaming, stream);
    span.setAttribute(GatewayAttr.model, route.name);
    span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
    const user = endUserOf(body);
    if (user !== undefined) span.setAttribute(GatewayAttr.user, user);
    const metering = new CallMetering(span, () => endpoint.promptText(body));
    metering.target(route.targets[0], this.calls.adapterOf(route.targets[0]));
    let limitError: RequestError | undefined;
    try {
      const checked = this.checkLimits(principal, body, route, endpoint, fillField);
      limitError = checked instanceof Promise ? await checked : checked; // a promise only when tokens had to be counted
    } catch (err) {
      metering.fail({ kind: 'upstream_error', message: 'internal error', retryable: true });
      metering.end();
      throw err;
    }
    if (limitError) {
      metering.fail({ kind: 'invalid_request', message: limitError.message, retryable: false });
      metering.end();
      writer.writeRequestError(res, 400, limitError, ctx);
      return;
    }
    // A hit is answered here: no upstream call, so no rate-limit admission either.
    const cached = caching.on ? this.responseCache.lookup(res, caching, { organisationId: principal.organisationId, route: routeIdentity(route), clientFormat: writer.format, endpoint: endpoint.operation, body, stream }) : undefined;
    if (cached?.kind === 'hit') {
      this.answerFromCache(call, cached.answer, metering, ctx);
      return;
    }
    let admission: Admission | undefined;
    if (this.rateLimits.limited(route, principal)) {
      const estimate = this.rateLimits.needsTokens(route, principal) ? estimateCallTokens(endpoint.promptText(body), askedOutput(body, endpoint.parameterFields)?.[1]) : 0;
      const decision = this.rateLimits.admit(route, principal, estimate);
      if (!decision.ok) {
        metering.fail({ kind: 'rate_limited', message: decision.message, retryable: true, retryAfterMs: decision.retryAfterMs });
        metering.end();
        writer.writeRequestError(
          res,
          429,
          { message: decision.message, code: 'rate_limit_exceeded', param: null, details: { limit: decision.limit, value: decision.value, model: route.name } },
          ctx,
          { 'retry-after': String(Math.ceil(decision.retryAfterMs / 1000)), 'x-gateway-rate-limit': decision.limit },
        );
        return;
      }
      admission = decision.admission;
    }
    try {
      let decoded: ClientRequestDecoded<C> | undefined;
      const result = await this.calls.call({
        operation: endpoint.operation,
        clientFormat: writer.format,
        route,
        body,
        canonical: () => (decoded ??= endpoint.decode(body)),
        stream,
        clientHeaders: call.req.headers,
        caller: principal.owner ? { user: principal.owner.name, email: principal.owner.email } : { user: principal.name },
        failover: failover.on,
        fallbacks: failover.fallbacks,
        onAttempt: (target, adapter) => metering.target(target, adapter),
        requestId,
      });
      ctx.warnings = metering.warnings(result.ok ? result.answer.warnings : result.warnings);
      const served = result.ok ? result.answer : result;
      if (served.route && served.target) {
        ctx.servedBy = { model: served.route.name, connection: served.target.connection.name };
        span.setAttribute(GatewayAttr.servedModel, served.route.name);
        span.setAttribute(GatewayAttr.connectionName, served.target.connection.name);
      }
      span.setAttribute(GatewayAttr.attempts, served.attempts ?? 0);
      if (!result.ok) {
        metering.fail(result.failure);
        ctx.upstreamRequestId = redactedRequestId(result.headers, result.target?.redactor);
        writer.writeFailure(res, result.failure, ctx, passHeaders(result.headers, result.target?.redactor));
        this.logger.debug(`[${requestId}] ${endpoint.operation} for ${route.name} failed: ${result.failure.kind}: ${result.failure.message}`);
        return;
      }
      const relayed = this.answer(call, endpoint, body, route, result.answer, metering, ctx, stream);
      if (relayed) await relayed; // a stream; a whole answer is written at once, without a promise
      if (cached) this.responseCache.store(res, cached.miss, metering.succeeded, { ...metering.facts(), servedBy: ctx.servedBy });
    } catch (err) {
      metering.fail({ kind: 'upstream_error', message: 'internal error', retryable: true });
      throw err;
    } finally {
      if (admission) this.rateLimits.settle(admission, metering.tokensUsed);
      metering.end();
    }
  }

  /** A response-cache hit: the stored answer replayed, the span marked as a hit with the original call's usage (metering prices it 0). */
  private answerFromCache(call: V1Request, answer: CachedAnswer, metering: CallMetering, ctx: AnswerContext): void {
    const span = metering.span;
    span.setAttribute(GatewayAttr.cacheHit, true);
    span.setAttribute(GatewayAttr.attempts, 0);
    span.setAttribute('http.response.status_code', answer.status);
    const facts = answer.facts;
    if (facts.servedBy) {
      ctx.servedBy = facts.servedBy;
      span.setAttribute(GatewayAttr.servedModel, facts.servedBy.model);
      span.setAttribute(GatewayAttr.connectionName, facts.servedBy.connection);
    }
    metering.response(facts);
    try {
      this.responseCache.replay(call.res, answer, answerHeaders(ctx));
    } finally {
      metering.end();
    }
  }

  /**
   * Whether this call fails over and to which models: x-gateway-failover (on, off, or a list of
   * models, each checked now: an unknown one is a 400 naming the header) over the model's
   * failoverByDefault; the model's fallbacks are resolved only when the call reaches them, and one
   * that no longer resolves (or is of another kind) is skipped.
   */
  private failoverOf(
    call: V1Request,
    route: Route,
    endpoint: GenerationEndpoint<unknown, unknown>,
    ctx: AnswerContext,
  ): { on: boolean; fallbacks: () => Iterable<Route> } | undefined {
    const asked = parseFailoverHeader(call.req.headers[FAILOVER_HEADER]);
    switch (asked.kind) {
      case 'default':
        if (!route.failoverByDefault) return NO_FAILOVER;
        return { on: true, fallbacks: () => this.fallbackRoutes(call.principal, route.fallbacks, endpoint, call.requestId) };
      case 'on':
        return { on: true, fallbacks: () => this.fallbackRoutes(call.principal, route.fallbacks, endpoint, call.requestId) };
      case 'off':
        return { on: false, fallbacks: () => [] };
      case 'invalid':
        endpoint.writer.writeRequestError(call.res, 400, { message: asked.message, code: 'invalid_failover_header', param: FAILOVER_HEADER }, ctx);
        return undefined;
      case 'models': {
        const routes: Route[] = [];
        for (const name of asked.models) {
          const resolution = this.readModel.resolve(call.principal, name);
          const problem = !resolution.ok
            ? `The model \`${name}\` named in ${FAILOVER_HEADER} does not exist or you do not have access to it.`
            : !mayCall(call.principal, resolution.route.name)
              ? `The model \`${name}\` named in ${FAILOVER_HEADER} is not one this key may call.`
              : resolution.route.kind !== undefined && resolution.route.kind !== endpoint.operation
              ? `The model \`${name}\` named in ${FAILOVER_HEADER} is a ${resolution.route.kind} model, not a ${endpoint.operation} model.`
              : undefined;
          if (problem || !resolution.ok) {
            endpoint.writer.writeRequestError(call.res, 400, { message: problem!, code: 'invalid_failover_header', param: FAILOVER_HEADER }, ctx);
            return undefined;
          }
          routes.push(resolution.route);
        }
        return { on: true, fallbacks: () => routes };
      }
    }
  }

  private *fallbackRoutes(principal: Principal, names: readonly string[], endpoint: GenerationEndpoint<unknown, unknown>, requestId: string): Iterable<Route> {
    for (const name of names) {
      const resolution = this.readModel.resolve(principal, name);
      if (!resolution.ok || (resolution.route.kind !== undefined && resolution.route.kind !== endpoint.operation) || !mayCall(principal, resolution.route.name)) {
        const why = !resolution.ok ? resolution.error.message : !mayCall(principal, resolution.route.name) ? 'the key may not call it' : `it is a ${resolution.route.kind} model`;
        this.logger.warn(`[${requestId}] fallback model ${name} skipped: ${why}`);
        continue;
      }
      yield resolution.route;
    }
  }

  /** The route the body's model addresses (ReadModelService.resolve), of the endpoint's kind; else the error is answered. */
  private resolve(call: V1Request, body: Record<string, unknown>, endpoint: GenerationEndpoint<unknown, unknown>, ctx: AnswerContext): Route | undefined {
    const name = body.model as string;
    const resolution = this.readModel.resolve(call.principal, name);
    if (!resolution.ok) {
      const { status, ...error } = resolution.error;
      endpoint.writer.writeRequestError(call.res, status, error, ctx);
      return undefined;
    }
    const route = resolution.route;
    if (route.kind !== undefined && route.kind !== endpoint.operation) {
      endpoint.writer.writeRequestError(
        call.res,
        400,
        { message: `The model \`${name}\` is a ${route.kind} model; call ${KIND_ENDPOINTS[route.kind]} with it.`, code: 'wrong_model_kind', param: 'model' },
        ctx,
      );
      return undefined;
    }
    if (!mayCall(call.principal, route.name)) {
      endpoint.writer.writeRequestError(call.res, 403, modelNotAllowed(route.name), ctx);
      return undefined;
    }
    return route;
  }

  /**
   * The model's limits: a larger output ask than maxOutputTokens is refused, an absent one gets the
   * cap; an input over maxInputTokens is refused with its exact count (002's input_limit_exceeded).
   * Synchronous when the byte length decides; counts tokens (on a worker thread) only when it cannot.
   */
  private checkLimits(
    principal: Principal,
    body: Record<string, unknown>,
    route: Route,
    endpoint: GenerationEndpoint<unknown, unknown>,
    fillField: string | undefined,
  ): RequestError | undefined | Promise<RequestError | undefined> {
    const { maxOutputTokens: maxOut, maxInputTokens: maxIn } = route.limits;
    const fields = endpoint.parameterFields;
    if (maxOut !== null && fillField !== undefined) {
      const asked = askedOutput(body, fields);
      if (asked === undefined) body[fillField] = maxOut;
      else if (typeof asked[1] === 'number' && asked[1] > maxOut) {
        return { message: `${asked[0]} is ${asked[1]}, more than this model allows (${maxOut}).`, code: 'max_tokens_exceeded', param: asked[0], details: { model: route.name, limit: maxOut, requested: asked[1] } };
      }
    }
    if (maxIn === null) return undefined;
    const measured = InputLimit.measureOver(endpoint.promptText(body), maxIn, (parts) => this.countPrompt(principal, route, parts));
    if (measured === undefined) return undefined;
    return measured.then((count) =>
      count === undefined
        ? undefined
        : {
            message: `Input token limit exceeded: the ${endpoint.promptParam} have ${count.tokens} tokens${count.method === 'approximate' ? ' (estimated: the model has no public tokenizer)' : ''}, this model accepts at most ${maxIn}.`,
            code: 'input_limit_exceeded',
            param: endpoint.promptParam,
            details: { model: route.name, limit: maxIn, measured: count.tokens, tokenizer: count.method },
          },
    );
  }

  /** Writes the answer: a whole one at once (answers undefined), a stream through relay() (answers its promise). */
  private answer<C, R>(
    call: V1Request,
    endpoint: GenerationEndpoint<C, R>,
    body: Record<string, unknown>,
    route: Route,
    answer: UpstreamAnswer,
    metering: CallMetering,
    ctx: AnswerContext,
    stream: boolean,
  ): Promise<void> | undefined {
    const redactor = answer.target.redactor;
    ctx.upstreamRequestId = redactedRequestId(answer.headers, redactor);
    const writing: AnswerWriting<C, R> = {
      res: call.res,
      endpoint,
      body,
      answer,
      op: answer.adapter[endpoint.operation] as ReadableOperation,
      headers: answerHeaders(ctx, passHeaders(answer.headers, redactor)),
      model: route.name,
      metering,
      ctx,
    };
    metering.span.setAttribute('http.response.status_code', answer.status);
    if (answer.body.kind === 'stream') return this.relay(writing, answer.body.exchange);
    this.answerWhole(writing, answer.body.bytes, stream);
    return undefined;
  }

  private async relay<C, R>({ res, endpoint, body, answer, op, headers, model, metering, ctx }: AnswerWriting<C, R>, exchange: UpstreamExchange): Promise<void> {
    try {
      const decoder = op.createStreamDecoder!({ meteringOnly: answer.passThrough });
      const encoder = answer.passThrough ? undefined : endpoint.createEncoder?.(encodeContext(ctx, model), body);
      const failure = await relayStream({
        res,
        status: answer.status,
        headers,
        exchange,
        target: answer.target,
        decoder,
        metering,
        writer: endpoint.writer,
        ctx,
        mode: encoder ? { kind: 'translate', encoder } : { kind: 'pass-through', drop: endpoint.passThroughDrop?.(body) },
        transportFailure: (err) => this.calls.transportFailure(err, answer.target, ctx.requestId),
      });
      if (failure) {
        metering.fail(failure);
        this.logger.debug(`[${ctx.requestId}] upstream stream failed: ${failure.message}`);
      }
    } finally {
      exchange.release();
    }
  }

  private answerWhole<C, R>({ res, endpoint, body, answer, op, headers, model, metering, ctx }: AnswerWriting<C, R>, bytes: Buffer, stream: boolean): void {
    const redactor = answer.target.redactor;
    // A whole answer to a stream request (an upstream that does not stream) is streamed from here, so it is read whole.
    const streamed = stream ? endpoint.createEncoder : undefined;
    const decoded = op.parseResponse(bytes, { meteringOnly: answer.passThrough && !streamed, headers: answer.headers });
    if ('error' in decoded) {
      const failure: CallFailure = { kind: 'upstream_invalid_response', message: redactor.redact(decoded.error.message), retryable: false };
      metering.fail(failure);
      endpoint.writer.writeFailure(res, failure, ctx);
      return;
    }
    if (streamed) {
      writeWholeAsStream(res, answer.status, headers, streamPartsFromResponse(decoded.value as ChatResponse | CompletionResponse), streamed(encodeContext(ctx, model), body), metering);
      return;
    }
    const value = decoded.value as DecodedAnswer;
    metering.response({ model: value.model, id: value.id, usage: value.usage, finishReasons: value.choices?.map((c) => c.rawFinishReason ?? c.finishReason) });
    if (answer.passThrough) {
      // Same format: the upstream's bytes as they came (the model's output is not rewritten).
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(bytes.length);
      res.writeHead(answer.status, headers);
      res.end(bytes);
      return;
    }
    writeJson(res, 200, endpoint.encodeWhole(decoded.value as R, encodeContext(ctx, model), body), headers);
  }
}

/**
 * A whole answer as a stream in the client's format (001's "auto-converted to stream"): the parts a
 * streaming upstream would have sent, metered as a stream's are, encoded and written at once.
 */
function writeWholeAsStream(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, parts: readonly CanonicalStreamPart[], encoder: PartEncoder, metering: CallMetering): void {
  let text = '';
  for (const part of parts) {
    metering.part(part);
    for (const e of encoder.push(part)) text += formatSseEvent(e);
  }
  for (const e of encoder.end()) text += formatSseEvent(e);
  if (res.headersSent || res.destroyed) return;
  headers['content-type'] = 'text/event-stream; charset=utf-8';
  headers['cache-control'] = 'no-cache';
  headers['content-length'] = String(Buffer.byteLength(text));
  res.writeHead(status, headers);
  res.end(text);
}

/** The provider's request id for x-upstream-request-id, without the connection's secrets. */
function redactedRequestId(headers: IncomingHttpHeaders | undefined, redactor: SecretRedactor | undefined): string | undefined {
  const id = upstreamRequestId(headers);
  return id === undefined ? undefined : redactor ? redactor.redact(id) : id;
}

/**
 * The upstream headers a client may want: OpenAI's processing info and organisation, rate-limit
 * state (OpenAI's and Anthropic's); their values without the connection's secrets (a value too short
 * to hold one costs one comparison). The provider's request id goes as x-upstream-request-id.
 */
function passHeaders(headers: IncomingHttpHeaders | undefined, redactor: SecretRedactor | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (!headers || !redactor) return out;
  for (const k in headers) {
    if (!(k.startsWith('openai-') || k.startsWith('x-ratelimit-') || k.startsWith('anthropic-ratelimit-'))) continue;
    const v = headers[k];
    if (v !== undefined) out[k] = redactor.redact(Array.isArray(v) ? v.join(', ') : v);
  }
  return out;
}

/** The longest end-user id kept on a span (the cost report groups by it). */
const MAX_END_USER_LENGTH = 256;

/** The end user a call is made for: OpenAI's `user`, Anthropic's `metadata.user_id`. */
function endUserOf(body: Record<string, unknown>): string | undefined {
  const metadata = body.metadata;
  const user = typeof body.user === 'string' ? body.user : typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>).user_id : undefined;
  return typeof user === 'string' && user.length > 0 ? user.slice(0, MAX_END_USER_LENGTH) : undefined;
}
