import type { ErrorKind } from '#libs/adapter-sdk';

/**
 * Every way a /v1 call can fail after its body was accepted, in one taxonomy: the adapters' kinds
 * (what the provider said, mapped by adapter.mapError) plus what the gateway itself saw on the way
 * (a redirect, a refused address, no connection, a timeout, an answer it could not read).
 */
export type CallFailureKind =
  | ErrorKind
  | 'invalid_request'
  | 'unsupported_operation'
  | 'adapter_unavailable'
  /** The connection cannot be called as configured (a secret's environment variable is unset on this gateway). */
  | 'connection_misconfigured'
  | 'upstream_redirect'
  | 'upstream_address_refused'
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'upstream_invalid_response'
  | 'circuit_open';

export interface CallFailure {
  kind: CallFailureKind;
  /** Safe to show the caller: upstream text has been through the connection's redactor. */
  message: string;
  /** Whether the same call may succeed later (sent to the official clients as x-should-retry). */
  retryable: boolean;
  retryAfterMs?: number;
  /** The request field at fault (invalid_request). */
  param?: string;
  /** The provider's HTTP status, when it answered. */
  upstreamStatus?: number;
}

/** How one kind is answered: the HTTP status per client format and the OpenAI error `code`. */
export interface FailureAnswer {
  /** OpenAI-format status. */
  status: number;
  /** Anthropic-format status (differs only for overloaded: Anthropic's own 529). */
  anthropicStatus: number;
  /** OpenAI error `type`. */
  openAIType: 'invalid_request_error' | 'rate_limit_error' | 'api_error';
  /** OpenAI error `code` (null = none). */
  openAICode: string | null;
  /** Anthropic error `type`. */
  anthropicType: 'invalid_request_error' | 'rate_limit_error' | 'api_error' | 'overloaded_error' | 'timeout_error';
}

/**
 * The status table (documented in apps/gateway/README.md and in /docs-json). Chosen for what the
 * official clients do: openai and @anthropic-ai/sdk retry 408, 409, 429 and >= 500 unless the answer
 * carries `x-should-retry`, which the gateway always sends on a call failure (true/false from
 * `retryable`). So: a provider refusing the connection's credentials is the operator's problem, not
 * the caller's key: 502 (never 401, which would read as a bad gateway key) and not retried; a rate
 * limit stays 429 with the provider's retry-after; an overloaded provider 503 (529 in Anthropic's
 * format, which its clients know); a request the provider refuses 400 and not retried; a timeout 504.
 * `satisfies Record<CallFailureKind, ...>`: a kind without an answer does not compile.
 */
export const FAILURE_ANSWERS = {
  invalid_request: { status: 400, anthropicStatus: 400, openAIType: 'invalid_request_error', openAICode: null, anthropicType: 'invalid_request_error' },
  bad_request: { status: 400, anthropicStatus: 400, openAIType: 'invalid_request_error', openAICode: 'bad_request', anthropicType: 'invalid_request_error' },
  context_length: { status: 400, anthropicStatus: 400, openAIType: 'invalid_request_error', openAICode: 'context_length_exceeded', anthropicType: 'invalid_request_error' },
  content_filter: { status: 400, anthropicStatus: 400, openAIType: 'invalid_request_error', openAICode: 'content_filter', anthropicType: 'invalid_request_error' },
  unsupported_operation: { status: 400, anthropicStatus: 400, openAIType: 'invalid_request_error', openAICode: 'unsupported_operation', anthropicType: 'invalid_request_error' },
  rate_limited: { status: 429, anthropicStatus: 429, openAIType: 'rate_limit_error', openAICode: 'rate_limited', anthropicType: 'rate_limit_error' },
  auth: { status: 502, anthropicStatus: 502, openAIType: 'api_error', openAICode: 'upstream_auth_failed', anthropicType: 'api_error' },
  upstream_error: { status: 502, anthropicStatus: 502, openAIType: 'api_error', openAICode: 'upstream_error', anthropicType: 'api_error' },
  upstream_redirect: { status: 502, anthropicStatus: 502, openAIType: 'api_error', openAICode: 'upstream_redirect', anthropicType: 'api_error' },
  upstream_address_refused: { status: 502, anthropicStatus: 502, openAIType: 'api_error', openAICode: 'upstream_address_refused', anthropicType: 'api_error' },
  upstream_unreachable: { status: 502, anthropicStatus: 502, openAIType: 'api_error', openAICode: 'upstream_unreachable', anthropicType: 'api_error' },
  upstream_invalid_response: { status: 502, anthropicStatus: 502, openAIType: 'api_error', openAICode: 'upstream_invalid_response', anthropicType: 'api_error' },
  connection_misconfigured: { status: 502, anthropicStatus: 502, openAIType: 'api_error', openAICode: 'connection_misconfigured', anthropicType: 'api_error' },
  adapter_unavailable: { status: 501, anthropicStatus: 501, openAIType: 'api_error', openAICode: 'adapter_unavailable', anthropicType: 'api_error' },
  overloaded: { status: 503, anthropicStatus: 529, openAIType: 'api_error', openAICode: 'overloaded', anthropicType: 'overloaded_error' },
  circuit_open: { status: 503, anthropicStatus: 503, openAIType: 'api_error', openAICode: 'circuit_open', anthropicType: 'overloaded_error' },
  upstream_timeout: { status: 504, anthropicStatus: 504, openAIType: 'api_error', openAICode: 'upstream_timeout', anthropicType: 'timeout_error' },
} as const satisfies Record<CallFailureKind, FailureAnswer>;

/** The response headers of a failure answer: x-should-retry always, retry-after when the provider gave one. */
export function failureHeaders(failure: CallFailure): Record<string, string> {
  const headers: Record<string, string> = { 'x-should-retry': failure.retryable ? 'true' : 'false' };
  if (failure.retryAfterMs !== undefined) {
    headers['retry-after'] = String(Math.max(0, Math.ceil(failure.retryAfterMs / 1000)));
    headers['retry-after-ms'] = String(Math.max(0, Math.round(failure.retryAfterMs)));
  }
  return headers;
}

/** A failure of the caller's own request, found before any upstream was paid. */
export function invalidRequest(message: string, param: string): CallFailure {
  return { kind: 'invalid_request', message, param, retryable: false };
}
