import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { FAILURE_ANSWERS, failureHeaders, type CallFailure } from './call-failure.js';
import { answerHeaders, writeJson, type AnswerContext, type ClientFormatWriter, type RequestError } from './client-format-writer.js';

/** The `type` OpenAI uses for each status. */
export function openAIErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** OpenAI's error object; its spec requires `param` and `code` (null allowed), and strict clients fail without them. */
export interface OpenAIErrorObject {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openAIErrorObject(failure: CallFailure): OpenAIErrorObject {
  const answer = FAILURE_ANSWERS[failure.kind];
  return { error: { message: failure.message, type: answer.openAIType, param: failure.param ?? null, code: answer.openAICode } };
}

/** Answers in OpenAI's format: /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models. */
export const openAIResponseWriter: ClientFormatWriter = {
  format: 'openai',
  writeFailure(res: ServerResponse, failure: CallFailure, ctx: AnswerContext, extraHeaders: OutgoingHttpHeaders = {}): void {
    const headers = answerHeaders(ctx, { ...extraHeaders, ...(failure.kind === 'invalid_request' ? {} : failureHeaders(failure)) });
    writeJson(res, FAILURE_ANSWERS[failure.kind].status, openAIErrorObject(failure), headers);
  },
  // The official clients throw on a data event whose JSON has an `error` field; no [DONE] follows.
  errorEvent(failure: CallFailure): string {
    return `data: ${JSON.stringify(openAIErrorObject(failure))}\n\n`;
  },
  writeRequestError(res: ServerResponse, status: number, error: RequestError, ctx: AnswerContext, extraHeaders: OutgoingHttpHeaders = {}): void {
    // An unknown model is invalid_request_error in OpenAI's own answers, whatever the status.
    const type = error.code === 'model_not_found' ? 'invalid_request_error' : openAIErrorType(status);
    const body = { error: { message: error.message, type, param: error.param ?? null, code: error.code, ...(error.details ? { details: error.details } : {}) } };
    writeJson(res, status, body, answerHeaders(ctx, extraHeaders));
  },
};

