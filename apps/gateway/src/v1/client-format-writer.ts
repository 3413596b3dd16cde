import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CallFailure } from './call-failure.js';

/** What every /v1 answer carries beside its body. */
export interface AnswerContext {
  /** The gateway's own id of this call (never the client's): x-request-id, the span, the log. */
  requestId: string;
  /** Parameters the provider could not honour, one line each (x-gateway-warnings). */
  warnings?: readonly string[];
  /** The provider's own request id, without the connection's secrets (x-upstream-request-id). */
  upstreamRequestId?: string;
  /** The model and connection that answered (x-gateway-model, x-gateway-connection): failover may have moved the call. */
  servedBy?: { model: string; connection: string };
}

/**
 * Writes answers in one client format (OpenAI's or Anthropic's): whole errors, and the error event
 * that ends a stream which failed after its first byte. The successful bodies are the endpoints'
 * (they know the operation's codec); their headers come from `answerHeaders`.
 */
export interface ClientFormatWriter {
  readonly format: 'openai' | 'anthropic';
  /** The whole error answer, in this format's shape and with the status of the failure's kind. */
  writeFailure(res: ServerResponse, failure: CallFailure, ctx: AnswerContext, extraHeaders?: OutgoingHttpHeaders): void;
  /** The SSE text of an error event in this format, written before a failed stream closes. */
  errorEvent(failure: CallFailure, ctx: AnswerContext): string;
  /**
   * An error the gateway answers about the request itself, before any call (a bad key, an unknown
   * model, a body over a limit): `code` and `param` as OpenAI names them; Anthropic's shape keeps
   * the message and derives its type from the status.
   */
  writeRequestError(res: ServerResponse, status: number, error: RequestError, ctx: AnswerContext, extraHeaders?: OutgoingHttpHeaders): void;
}

export interface RequestError {
  message: string;
  code: string | null;
  param?: string | null;
  /** Machine-readable facts of the refusal (002's input_limit_exceeded: model, limit, measured), beside the format's own fields. */
  details?: Record<string, unknown>;
}

/**
 * A warning as a header value: header values are latin1 without control characters, so anything
 * else becomes '?' (a warning names parameters, which are ASCII).
 */
function headerSafe(text: string): string {
  // Checked before replaced: the names and ids of every call are plain, and the loop costs less than the regex.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return text.replace(/[^\x20-\x7e]/g, '?');
  }
  return text;
}

/** The gateway's headers on every /v1 answer. */
export function answerHeaders(ctx: AnswerContext, headers: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  headers['x-request-id'] = ctx.requestId;
  if (ctx.upstreamRequestId) headers['x-upstream-request-id'] = headerSafe(ctx.upstreamRequestId);
  if (ctx.warnings && ctx.warnings.length > 0) headers['x-gateway-warnings'] = headerSafe(ctx.warnings.join('; '));
  if (ctx.servedBy) {
    headers['x-gateway-model'] = headerSafe(ctx.servedBy.model);
    headers['x-gateway-connection'] = headerSafe(ctx.servedBy.connection);
  }
  return headers;
}

/** Writes a JSON body with the gateway's headers; nothing when the answer has already begun. */
export function writeJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders): void {
  if (res.headersSent || res.destroyed) return;
  const json = typeof body === 'string' ? body : JSON.stringify(body);
  headers['content-type'] = 'application/json; charset=utf-8';
  headers['content-length'] = Buffer.byteLength(json);
  res.writeHead(status, headers);
  res.end(json);
}
