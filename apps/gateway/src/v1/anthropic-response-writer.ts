import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { FAILURE_ANSWERS, failureHeaders, type CallFailure } from './call-failure.js';
import { answerHeaders, writeJson, type AnswerContext, type ClientFormatWriter, type RequestError } from './client-format-writer.js';

/** The type Anthropic answers each status with (https://docs.anthropic.com/en/api/errors). */
export function anthropicErrorTypeOf(status: number): AnthropicClientErrorType {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** Anthropic's error types (https://docs.anthropic.com/en/api/errors) the gateway answers with. */
export type AnthropicClientErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error'
  | 'timeout_error';

export interface AnthropicErrorObject {
  type: 'error';
  error: { type: AnthropicClientErrorType; message: string };
  request_id: string;
}

export function anthropicErrorObject(type: AnthropicClientErrorType, message: string, requestId: string): AnthropicErrorObject {
  return { type: 'error', error: { type, message }, request_id: requestId };
}

function failureObject(failure: CallFailure, requestId: string): AnthropicErrorObject {
  // The field at fault is named in the message: Anthropic's error has no param.
  const message = failure.param !== undefined && !failure.message.startsWith(failure.param) ? `${failure.param}: ${failure.message}` : failure.message;
  return anthropicErrorObject(FAILURE_ANSWERS[failure.kind].anthropicType, message, requestId);
}

/** Answers in Anthropic's format: /v1/messages and /v1/messages/count_tokens. */
export const anthropicResponseWriter: ClientFormatWriter = {
  format: 'anthropic',
  writeFailure(res: ServerResponse, failure: CallFailure, ctx: AnswerContext, extraHeaders: OutgoingHttpHeaders = {}): void {
    const headers = answerHeaders(ctx, { ...extraHeaders, ...(failure.kind === 'invalid_request' ? {} : failureHeaders(failure)) });
    writeJson(res, FAILURE_ANSWERS[failure.kind].anthropicStatus, failureObject(failure, ctx.requestId), headers);
  },
  // https://docs.anthropic.com/en/api/messages-streaming#error-events; no message_stop follows.
  errorEvent(failure: CallFailure, ctx: AnswerContext): string {
    const { type, error } = failureObject(failure, ctx.requestId);
    return `event: error\ndata: ${JSON.stringify({ type, error })}\n\n`;
  },
  writeRequestError(res: ServerResponse, status: number, error: RequestError, ctx: AnswerContext, extraHeaders: OutgoingHttpHeaders = {}): void {
    const message = error.param && error.param !== 'body' && !error.message.startsWith(error.param) ? `${error.param}: ${error.message}` : error.message;
    const body = anthropicErrorObject(anthropicErrorTypeOf(status), message, ctx.requestId);
    // Anthropic's error has no code: the gateway's machine-readable code and details ride beside its type.
    if (error.code !== null && error.code !== undefined && error.details) Object.assign(body.error, { code: error.code, details: error.details });
    writeJson(res, status, body, answerHeaders(ctx, extraHeaders));
  },
};

