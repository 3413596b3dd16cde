import { FAILURE_ANSWERS, failureHeaders } from './call-failure.js';
import { anthropicResponseWriter } from './anthropic-response-writer.js';
import { openAIErrorObject } from './openai-response-writer.js';

describe('the /v1 failure answers', () => {
  it('never answers a provider refusing the connection’s credentials as a bad gateway key', () => {
    expect(FAILURE_ANSWERS.auth).toMatchObject({ status: 502, anthropicStatus: 502, openAICode: 'upstream_auth_failed', anthropicType: 'api_error' });
    expect(openAIErrorObject({ kind: 'auth', message: 'invalid x-api-key', retryable: false }).error).toEqual({
      message: 'invalid x-api-key',
      type: 'api_error',
      param: null,
      code: 'upstream_auth_failed',
    });
  });

  it('answers overloaded 503 in OpenAI’s format and 529 overloaded_error in Anthropic’s', () => {
    expect(FAILURE_ANSWERS.overloaded).toMatchObject({ status: 503, anthropicStatus: 529, anthropicType: 'overloaded_error' });
  });

  it('tells the clients whether to retry, and when', () => {
    expect(failureHeaders({ kind: 'auth', message: '', retryable: false })).toEqual({ 'x-should-retry': 'false' });
    expect(failureHeaders({ kind: 'rate_limited', message: '', retryable: true, retryAfterMs: 1500 })).toEqual({ 'x-should-retry': 'true', 'retry-after': '2', 'retry-after-ms': '1500' });
  });

  it('writes Anthropic’s stream error event with the failure’s type and message', () => {
    const text = anthropicResponseWriter.errorEvent({ kind: 'overloaded', message: 'Overloaded', retryable: true }, { requestId: 'r1' });
    expect(text).toBe('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
  });
});
