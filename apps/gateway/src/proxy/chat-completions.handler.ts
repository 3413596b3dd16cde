import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { AdapterRegistry, SliceWriter, SseEventSplitter, sseData, type CanonicalUsage, type ProviderAdapter, type SseEvent } from '#libs/adapter-sdk';
import { GenAiAttr } from '#libs/contracts';
import type { SecretRedactor } from '#libs/secret-redaction';
import type { CallSpan } from '#libs/telemetry';
import { TokenCounter } from '#libs/tokenizer';
import { UpstreamAddressRefused } from '#libs/upstream-guard';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, type Principal } from '../auth/principal.js';
import { ReadModelService, type Route } from '../read-model/read-model.service.js';
import { GatewayTracer } from '../telemetry/gateway-tracer.js';
import { InputLimit } from './input-limit.js';
import { openAIError, openAIErrorType, writeOpenAIError, type OpenAIErrorBody } from './openai-error.js';
import { OpenAIRequestValidator } from './openai-request-validator.js';
import { UpstreamAnswerTooLarge, UpstreamExchange } from './upstream-exchange.js';
import { UpstreamPools } from './upstream-pools.js';

type ChatBody = Record<string, unknown> & { model: string; stream?: boolean; messages: unknown[] };

/** A whole (non-streamed) answer is held in memory to read its usage; larger ones are refused. */
const MAX_WHOLE_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * POST /v1/chat/completions: authenticate from the read model, resolve the route, enforce the
 * model's limits, call the upstream through its pool, and answer: whole JSON passed through as
 * received, or the SSE stream forwarded event by event. One span per call carries the usage.
 * Works on node:http's request and response directly (see V1FrontDoor): no framework per call.
 */
@Injectable()
export class ChatCompletionsHandler implements OnApplicationShutdown {
  private readonly logger = new Logger('ChatCompletions');
  private readonly tokenCounter = new TokenCounter();

  constructor(
    private readonly readModel: ReadModelService,
    private readonly pools: UpstreamPools,
    private readonly adapters: AdapterRegistry,
    private readonly tracer: GatewayTracer,
    private readonly validator: OpenAIRequestValidator,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.tokenCounter.close();
  }

  /** The caller behind the request's gateway key, or the OpenAI-format 401 to answer. */
  authenticate(headers: IncomingHttpHeaders): Principal | OpenAIErrorBody {
    const token = bearerToken(headers);
    const principal = token ? this.readModel.principalForKey(token) : undefined;
    return principal ?? openAIError(token ? 'Incorrect API key provided.' : 'Missing API key: send Authorization: Bearer <gateway key>.', 'invalid_request_error', 'invalid_api_key');
  }

  /** Answers one call whose caller is known and whose body has been parsed (as JSON, any shape). */
  async handle(request: IncomingMessage, res: ServerResponse, principal: Principal, parsedBody: unknown): Promise<void> {
    // Types and ranges per OpenAI's request schema, before any upstream is paid for.
    const invalid = this.validator.chatCompletion(parsedBody);
    if (invalid) {
      writeOpenAIError(res, 400, openAIError(invalid.message, 'invalid_request_error', null, invalid.param));
      return;
    }
    const body = parsedBody as ChatBody;
    const route = this.readModel.route(principal, body.model);
    if (!route) {
      writeOpenAIError(res, 404, openAIError(`The model \`${body.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found', 'model'));
      return;
    }
    const adapter = this.adapters.get(route.connection.adapter);
    if (!adapter) {
      writeOpenAIError(res, 501, openAIError(`Connection ${route.connection.name} uses adapter ${route.connection.adapter}, which this gateway does not have.`, 'api_error', 'adapter_unavailable'));
      return;
    }
    let limitError = this.checkOutputLimit(body, route) ?? this.checkInputLimit(body, route);
    if (limitError instanceof Promise) limitError = await limitError; // only when tokens had to be counted
    if (limitError) {
      writeOpenAIError(res, 400, limitError);
      return;
    }
    const stream = body.stream === true;
    const span = this.tracer.startClientSpan(
      `chat ${route.model.upstreamModel}`,
      { organisationId: principal.organisationId, projectId: principal.projectId, keyId: principal.keyId },
      {
        [GenAiAttr.operationName]: 'chat',
        [GenAiAttr.providerName]: adapter.providerName,
        [GenAiAttr.requestModel]: route.model.upstreamModel,
        [GenAiAttr.streaming]: stream,
        'gateway.model': route.model.name,
        'gateway.connection_id': route.connection.id,
      },
      request.headers,
    );
    try {
      await this.forward(res, body, route, adapter, span, stream);
    } catch (err) {
      if (err instanceof UpstreamAddressRefused) {
        this.refuseAddress(res, route, span, err);
        return;
      }
      const reason = failSpan(span, err, route.redactor);
      if (!res.headersSent && !res.destroyed) {
        const message =
          err instanceof UpstreamAnswerTooLarge ? 'The upstream answer is too large.' : err instanceof ClientGone ? 'request aborted' : 'The upstream provider could not be reached.';
        writeOpenAIError(res, 502, openAIError(message, 'api_error', err instanceof UpstreamAnswerTooLarge ? 'upstream_invalid_response' : 'upstream_unreachable'));
      }
      this.logger.warn(`upstream call for ${route.model.name} failed: ${reason}`);
    } finally {
      span.end();
    }
  }

  private checkOutputLimit(body: ChatBody, route: Route): OpenAIErrorBody | undefined {
    const maxOut = route.model.maxOutputTokens;
    if (maxOut === null) return undefined;
    for (const param of ['max_completion_tokens', 'max_tokens'] as const) {
      const asked = body[param];
      if (typeof asked === 'number' && asked > maxOut) {
        return openAIError(`${param} is ${asked}, more than this model allows (${maxOut}).`, 'invalid_request_error', 'max_tokens_exceeded', param);
      }
    }
    return undefined;
  }

  /** Synchronous when the byte length decides; counts tokens (on a worker thread) only when it cannot. */
  private checkInputLimit(body: ChatBody, route: Route): OpenAIErrorBody | undefined | Promise<OpenAIErrorBody | undefined> {
    const maxIn = route.model.maxInputTokens;
    if (maxIn === null) return undefined;
    const parts = InputLimit.promptText(body.messages);
    if (InputLimit.fitsByBytes(parts, maxIn)) return undefined;
    return this.tokenCounter.countOver(parts, maxIn).then((tokens) =>
      tokens === undefined
        ? undefined
        : openAIError(
            `This model's maximum input length is ${maxIn} tokens; the messages have at least ${tokens}.`,
            'invalid_request_error',
            'context_length_exceeded',
            'messages',
          ),
    );
  }

  private async forward(res: ServerResponse, body: ChatBody, route: Route, adapter: ProviderAdapter, span: CallSpan, stream: boolean): Promise<void> {
    const { request: upstream } = adapter.buildChatRequest(body, {
      baseUrl: route.connection.baseUrl,
      apiKey: route.connection.apiKey,
      headers: route.connection.headers,
      upstreamModel: route.model.upstreamModel,
    });
    const target = this.pools.forUrl(upstream.url);
    const exchange = new UpstreamExchange(MAX_WHOLE_ANSWER_BYTES, stream ? isEventStream : undefined);
    target.pool.dispatch({ path: target.path, method: upstream.method as 'POST', headers: upstream.headers, body: upstream.body }, exchange);
    try {
      await this.answer(res, body, adapter, span, stream, exchange, route.redactor);
    } finally {
      exchange.release();
    }
  }

  /**
   * Everything the upstream says that goes on to the client, the span or the log (error messages,
   * stream errors, relayed headers, the response model and id) passes `redactor` first: a provider
   * that echoes the credential it was sent ("Incorrect API key provided: sk-...") must not hand the
   * connection's secrets to a caller who only holds a gateway key. A successful answer's body (the
   * model's output) is passed through as sent: scanning every byte would tax every call.
   */
  private async answer(
    res: ServerResponse,
    body: ChatBody,
    adapter: ProviderAdapter,
    span: CallSpan,
    stream: boolean,
    exchange: UpstreamExchange,
    redactor: SecretRedactor,
  ): Promise<void> {
    // A client that leaves a stream stops the generation upstream. A whole (non-streamed) answer is
    // awaited even then: the provider bills it, so its usage must still be recorded.
    if (stream) {
      res.once('close', () => {
        if (!res.writableFinished) exchange.abort(new ClientGone('the client closed the connection'));
      });
    }
    // A whole answer is awaited in one step (its head is in when it has ended); a stream's head
    // first, to see whether the upstream streams at all.
    let raw: Buffer | undefined;
    if (stream) await exchange.head();
    else raw = await exchange.whole();
    const status = exchange.statusCode;
    span.setAttribute('http.response.status_code', status);

    if (status >= 300 && status < 400) {
      this.refuseRedirect(res, span, status, redactor.redact(String(exchange.headers.location ?? '')));
      return;
    }
    if (status >= 400) {
      await this.relayError(res, exchange, adapter, span, raw, redactor);
      return;
    }
    if (exchange.isStreamed) {
      await this.relayStream(res, exchange, adapter, span, clientWantsUsage(body), redactor);
      return;
    }
    const whole = raw ?? (await exchange.whole());
    let parsed: unknown;
    try {
      parsed = JSON.parse(whole.toString('utf8'));
    } catch {
      span.setError('upstream answered with invalid JSON', 'upstream_invalid_response');
      writeOpenAIError(res, 502, openAIError('The upstream provider answered with invalid JSON.', 'api_error', 'upstream_invalid_response'));
      return;
    }
    const result = adapter.parseChatResponse(parsed);
    recordUsage(span, result.usage, result.model, result.id, redactor);
    if (result.finishReasons.length > 0) span.setAttribute(GenAiAttr.finishReasons, result.finishReasons.map((r) => redactor.redact(r)));
    const headers = passHeaders(exchange.headers, redactor);
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(whole.length);
    res.writeHead(status, headers);
    res.end(whole);
  }

  /**
   * A redirect is never followed (its target was never checked against UPSTREAM_ALLOWLIST) nor
   * relayed (a client's own HTTP stack would follow it, or learn an internal address): the caller
   * gets an upstream error with neither the Location nor the body.
   */
  private refuseRedirect(res: ServerResponse, span: CallSpan, status: number, location: string): void {
    span.setError(`upstream answered ${status}, a redirect the gateway does not follow`, 'upstream_redirect');
    this.logger.warn(`upstream answered ${status} with Location ${JSON.stringify(location)}; not followed, answered 502`);
    writeOpenAIError(res, 502, openAIError(`The upstream provider answered with a redirect (${status}), which the gateway does not follow.`, 'api_error', 'upstream_redirect'));
  }

  /** The connection's upstream is on an address the operator has not allowed; nothing was sent, no other address is tried. */
  private refuseAddress(res: ServerResponse, route: Route, span: CallSpan, err: UpstreamAddressRefused): void {
    span.setError(err.message, 'upstream_address_refused');
    this.logger.warn(`upstream call for ${route.model.name} refused: connection ${route.connection.id}: ${err.message}`);
    writeOpenAIError(res, 502, openAIError(`The upstream of connection ${route.connection.name} was not called: ${err.publicMessage}`, 'api_error', 'upstream_address_refused'));
  }

  /**
   * The upstream's error, in OpenAI's format: its message (secrets removed) and the gateway's own
   * error kind. Nothing else of the upstream's body is relayed (not its param, code or type, nor a
   * body that is not JSON); of its headers only retry-after.
   */
  private async relayError(res: ServerResponse, exchange: UpstreamExchange, adapter: ProviderAdapter, span: CallSpan, raw: Buffer | undefined, redactor: SecretRedactor): Promise<void> {
    const text = (raw ?? (await exchange.whole())).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const status = exchange.statusCode;
    const mapped = adapter.mapError(status, parsed, exchange.headers);
    const message = redactor.redact(mapped.message);
    span.setError(message, mapped.kind);
    this.logger.debug(`upstream answered HTTP ${status} (${mapped.kind}): ${message}`);
    const headers: Record<string, string> = {};
    const retryAfter = exchange.headers['retry-after'];
    if (typeof retryAfter === 'string') headers['retry-after'] = redactor.redact(retryAfter);
    writeOpenAIError(res, status, openAIError(message, openAIErrorType(status), mapped.kind), headers);
  }

  /**
   * Forwards the SSE stream event by event as it arrives (never the whole stream), reading only
   * what metering needs. The gateway always asks for the usage chunk; a client that did not ask
   * for it does not get it. A slow client pauses the upstream (back-pressure) instead of being
   * buffered for. A failure after the first byte ends the stream with an OpenAI error event, so a
   * truncated answer never looks complete.
   */
  private async relayStream(
    res: ServerResponse,
    exchange: UpstreamExchange,
    adapter: ProviderAdapter,
    span: CallSpan,
    forwardUsage: boolean,
    redactor: SecretRedactor,
  ): Promise<void> {
    res.writeHead(exchange.statusCode, {
      ...passHeaders(exchange.headers, redactor),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const splitter = new SseEventSplitter();
    let writable = true;
    const out = new SliceWriter((bytes) => {
      if (!res.write(bytes)) writable = false;
    });
    const onDrain = (): void => exchange.resume();
    res.on('drain', onDrain);
    const seen: StreamSeen = { model: undefined, id: undefined, usage: undefined, done: false, finishReasons: [] };
    try {
      await exchange.streamTo((chunk) => {
        writable = true;
        try {
          for (const event of splitter.push(chunk)) {
            if (this.readStreamEvent(event, adapter, seen, redactor) !== 'usage-only' || forwardUsage) out.add(event.bytes);
          }
        } finally {
          out.flush(); // the events before an upstream error event in the same chunk still reach the client
        }
        return writable;
      });
      const rest = splitter.flush();
      if (rest && rest.toString('utf8').trim().length > 0) {
        // A last event the upstream did not terminate: terminate it, so the client sees it too.
        const bytes = Buffer.concat([rest, Buffer.from('\n\n')]);
        if (this.readStreamEvent({ bytes, latin1: bytes.toString('latin1') }, adapter, seen, redactor) !== 'usage-only' || forwardUsage) res.write(bytes);
      }
      if (!seen.done) throw new UpstreamStreamError('the upstream stream ended without [DONE]');
      res.end();
    } catch (err) {
      this.logger.debug(`upstream stream failed: ${failSpan(span, err, redactor)}`);
      if (!res.destroyed) {
        // An UpstreamStreamError's message is the upstream's, already without secrets (readStreamEvent).
        const message = err instanceof UpstreamStreamError ? err.message : 'the upstream stream failed before it was complete';
        res.end(`data: ${JSON.stringify(openAIError(message, 'api_error', 'upstream_stream_error'))}\n\n`);
      }
    } finally {
      res.off('drain', onDrain);
      recordUsage(span, seen.usage, seen.model, seen.id, redactor);
      if (seen.finishReasons.length > 0) span.setAttribute(GenAiAttr.finishReasons, seen.finishReasons.map((r) => redactor.redact(r)));
    }
  }

  /**
   * Reads what metering needs from one SSE event. Only the first event (model, id), finish events,
   * the usage event, errors and [DONE] are decoded and parsed; content deltas pass as bytes.
   * @throws UpstreamStreamError when the upstream reports an error in the stream (its message without the connection's secrets)
   */
  private readStreamEvent(event: SseEvent, adapter: ProviderAdapter, seen: StreamSeen, redactor: SecretRedactor): 'usage-only' | 'other' {
    const text = event.latin1;
    const needsParse =
      seen.model === undefined ||
      text.includes('"usage":{') ||
      text.includes('"finish_reason":"') ||
      text.includes('"error"') ||
      text.includes('[DONE]');
    if (!needsParse) return 'other';
    const data = sseData(event.bytes.toString('utf8'));
    if (data === undefined) return 'other';
    if (data === '[DONE]') {
      seen.done = true;
      return 'other';
    }
    let usageOnly = false;
    for (const part of adapter.parseStreamEvent(data)) {
      if (part.type === 'response-metadata') {
        seen.model ??= part.model;
        seen.id ??= part.id;
      } else if (part.type === 'usage') {
        seen.usage = part.usage;
        usageOnly = data.includes('"choices":[]');
      } else if (part.type === 'finish') seen.finishReasons.push(part.reason);
      else if (part.type === 'error') throw new UpstreamStreamError(redactor.redact(part.error.message));
    }
    return usageOnly ? 'usage-only' : 'other';
  }
}

/** Marks the span failed with the error's message, without the connection's secrets; returns that message for the log. */
function failSpan(span: CallSpan, err: unknown, redactor: SecretRedactor): string {
  const message = redactor.redact(String((err as Error)?.message ?? err));
  span.setError(message, (err as Error)?.name ?? 'error');
  return message;
}

interface StreamSeen {
  model: string | undefined;
  id: string | undefined;
  usage: CanonicalUsage | undefined;
  done: boolean;
  finishReasons: string[];
}

class UpstreamStreamError extends Error {
  override name = 'UpstreamStreamError';
}

/** The client closed its connection before the answer was complete. */
class ClientGone extends Error {
  override name = 'ClientGone';
}

/** A successful answer in server-sent events (an upstream may answer a stream request with JSON). */
function isEventStream(status: number, headers: IncomingHttpHeaders): boolean {
  return status >= 200 && status < 300 && String(headers['content-type'] ?? '').includes('text/event-stream');
}

function clientWantsUsage(body: ChatBody): boolean {
  const options = body.stream_options as { include_usage?: unknown } | undefined;
  return options?.include_usage === true;
}

function recordUsage(span: CallSpan, usage: CanonicalUsage | undefined, model: string | undefined, id: string | undefined, redactor: SecretRedactor): void {
  // Upstream text that metering stores (the model becomes the usage record's and the cost report's).
  if (model) span.setAttribute(GenAiAttr.responseModel, redactor.redact(model));
  if (id) span.setAttribute(GenAiAttr.responseId, redactor.redact(id));
  if (!usage) return;
  span.setAttribute(GenAiAttr.inputTokens, usage.input.total);
  span.setAttribute(GenAiAttr.outputTokens, usage.output.total);
  // The parts only when present: metering reads a missing part as zero.
  if (usage.input.cacheRead > 0) span.setAttribute(GenAiAttr.cacheReadTokens, usage.input.cacheRead);
  if (usage.input.cacheWrite > 0) span.setAttribute(GenAiAttr.cacheCreationTokens, usage.input.cacheWrite);
  if (usage.output.reasoning > 0) span.setAttribute(GenAiAttr.reasoningTokens, usage.output.reasoning);
}

/**
 * The upstream headers a client may want: request ids, OpenAI's processing info, rate-limit state;
 * their values without the connection's secrets (a value too short to hold one costs one comparison).
 */
function passHeaders(headers: IncomingHttpHeaders, redactor: SecretRedactor): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in headers) {
    if (!(k.startsWith('x-request-id') || k.startsWith('openai-') || k.startsWith('x-ratelimit-'))) continue;
    const v = headers[k];
    if (v !== undefined) out[k] = redactor.redact(Array.isArray(v) ? v.join(', ') : v);
  }
  return out;
}
