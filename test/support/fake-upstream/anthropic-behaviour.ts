import type { FakeEcho } from './fake-behaviour.js';

/**
 * What the fake Anthropic upstream answers. As with the OpenAI fake, a test queues behaviours
 * (`enqueue`, `script`) or sets a sticky default (`setDefault`); each POST /v1/messages and
 * /v1/messages/count_tokens request takes the next one.
 */

/** Token counts in Anthropic's terms: input_tokens excludes cached tokens (read and written). */
export interface FakeAnthropicUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheCreationInputTokens?: number;
  cacheReadInputTokens?: number;
  /** The `cache_creation` breakdown by TTL; default: every written token in the 5-minute bucket when any were written. */
  cacheCreation?: { ephemeral5m: number; ephemeral1h: number };
  /** Sent as output_tokens_details.thinking_tokens when set. */
  thinkingTokens?: number;
}

/** One content block of the answer, as the Messages API returns it. */
export type FakeAnthropicBlock =
  /** `deltas`: exact stream pieces (default: one per word); the block's text is their concatenation. */
  | { type: 'text'; text?: string; deltas?: readonly string[] }
  /** In a stream, `input` is sent as `jsonPieces` input_json_delta pieces (default 3) after an empty one, as the API does. */
  | { type: 'tool_use'; id?: string; name: string; input: Record<string, unknown>; jsonPieces?: number }
  /** In a stream: thinking_delta pieces (default: one per line), then one signature_delta. */
  | { type: 'thinking'; thinking: string; signature: string; deltas?: readonly string[] }
  | { type: 'redacted_thinking'; data: string };

export type FakeAnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';

/** An `event: error` in the middle of a stream instead of the rest of it (https://docs.anthropic.com/en/api/messages-streaming#error-events). */
export interface FakeAnthropicStreamError {
  /** Events sent before the error (message_start is the first; pings count). */
  afterEvents: number;
  /** Default `overloaded_error`. */
  type?: string;
  /** Default `Overloaded`. */
  message?: string;
}

/** A successful answer, as JSON or as an SSE stream. */
export interface FakeAnthropicAnswer {
  /** A single text block's text (ignored when `blocks` is given; default: a fixed sentence). */
  content?: string;
  blocks?: readonly FakeAnthropicBlock[];
  /** Default: the request's model. */
  model?: string;
  /** Default: a fresh `msg_fake…`. */
  id?: string;
  /** Default `tool_use` when a tool_use block is present, `stop_sequence` when `stopSequence` is set, else `end_turn`. */
  stopReason?: FakeAnthropicStopReason;
  stopSequence?: string;
  usage?: FakeAnthropicUsage;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** A `ping` after the first content_block_start (default true, as the API does). */
  ping?: boolean;
  /** Also repeat input and cache token counts in message_delta's usage (the API does this for some requests; default false). */
  inputUsageInDelta?: boolean;
  /**
   * message_delta events in a stream (default 1). Above 1, the earlier ones come before message_stop
   * with stop_reason null and a growing output_tokens: each delta's usage is cumulative, never a
   * part to add (answers using server tools send several), so a reader must keep the last total.
   */
  messageDeltas?: number;
  /** Delay between two stream events, in ms (default 0: the whole stream is written at once). */
  chunkDelayMs?: number;
  /** Destroy the connection after this many stream events (message_start is the first), without message_stop. */
  breakAfterEvents?: number;
  streamError?: FakeAnthropicStreamError;
  /** Echoes the request's credentials in the stream error and in response headers. */
  echo?: FakeEcho;
}

export interface FakeAnthropicError {
  status: number;
  /** Default: the type Anthropic uses for the status (https://docs.anthropic.com/en/api/errors). */
  type?: string;
  message?: string;
  /** Seconds, sent as `retry-after`. */
  retryAfter?: number;
  /** A 429 also carries anthropic-ratelimit-* headers (default true for 429). */
  rateLimitHeaders?: boolean;
  headers?: Record<string, string>;
  /** Default: the response's `request-id`; null sends `"request_id": null`. */
  requestId?: string | null;
  /** Echoes the request's credentials (default x-api-key and authorization) after the message and in response headers. */
  echo?: FakeEcho;
}

export type FakeAnthropicBehaviour =
  /** A Message: JSON, or SSE when the request has `stream: true`. At count_tokens: the estimate. */
  | ({ kind: 'message' } & FakeAnthropicAnswer)
  /** SSE whatever the request asked for. */
  | ({ kind: 'stream' } & FakeAnthropicAnswer)
  /** The answer of POST /v1/messages/count_tokens. */
  | { kind: 'tokens'; inputTokens: number }
  | ({ kind: 'error' } & FakeAnthropicError)
  /** Waits, then behaves as `then` (default: the normal answer). */
  | { kind: 'delay'; ms: number; then?: FakeAnthropicBehaviour }
  /** Anything Anthropic would not send. */
  | { kind: 'raw'; status?: number; headers?: Record<string, string>; body: string; echo?: FakeEcho }
  /** Drops the connection before answering. */
  | { kind: 'disconnect' };

/** The error type Anthropic answers each status with (https://docs.anthropic.com/en/api/errors). */
export const ANTHROPIC_ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** Errors as Anthropic sends them, for the cases a gateway maps into its error taxonomy. */
export const fakeAnthropicErrors = {
  promptTooLong: (tokens = 208_310, maximum = 200_000): FakeAnthropicBehaviour => ({
    kind: 'error',
    status: 400,
    message: `prompt is too long: ${tokens} tokens > ${maximum} maximum`,
  }),
  badRequest: (message = 'max_tokens: Field required'): FakeAnthropicBehaviour => ({ kind: 'error', status: 400, message }),
  invalidApiKey: (): FakeAnthropicBehaviour => ({ kind: 'error', status: 401, message: 'invalid x-api-key' }),
  echoingInvalidApiKey: (echo: FakeEcho = {}): FakeAnthropicBehaviour => ({ kind: 'error', status: 401, message: 'invalid x-api-key', echo }),
  permissionDenied: (): FakeAnthropicBehaviour => ({ kind: 'error', status: 403, message: 'Your API key does not have permission to use the specified resource.' }),
  modelNotFound: (model = 'claude-unknown'): FakeAnthropicBehaviour => ({ kind: 'error', status: 404, message: `model: ${model}` }),
  rateLimited: (retryAfter = 1): FakeAnthropicBehaviour => ({ kind: 'error', status: 429, retryAfter }),
  apiError: (): FakeAnthropicBehaviour => ({ kind: 'error', status: 500 }),
  overloaded: (): FakeAnthropicBehaviour => ({ kind: 'error', status: 529 }),
} as const;
