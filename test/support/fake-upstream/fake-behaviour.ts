/**
 * What the fake OpenAI upstream answers. A test queues behaviours (`enqueue`, `script`) or sets a
 * sticky default (`setDefault`); each POST /v1/* request takes the next one.
 */

/** Token counts of an answer, in OpenAI's terms: prompt includes cached, completion includes reasoning. */
export interface FakeUsage {
  promptTokens?: number;
  completionTokens?: number;
  cachedTokens?: number;
  reasoningTokens?: number;
}

export interface FakeToolCall {
  id?: string;
  name: string;
  /** The JSON text of the arguments, as OpenAI sends it. */
  arguments: string;
}

export type FakeFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** A form in which a careless provider (or a proxy in front of it) echoes a credential back. */
export type FakeEchoForm = 'plain' | 'base64' | 'hex';

/**
 * Echoes the credentials the request carried, as some providers do in their errors ("Incorrect API
 * key provided: sk-..."), so a test can check that a gateway never passes them on.
 */
export interface FakeEcho {
  /** Request headers whose values are echoed (default `authorization`, whose `Bearer ` scheme is left out). */
  headers?: readonly string[];
  /** Default: every form. */
  forms?: readonly FakeEchoForm[];
  /** Whether the error message (or in-stream error, or raw body) carries the echo (default true). */
  inMessage?: boolean;
  /** Response headers set to the echo too (e.g. `openai-organization`, which a gateway passes on). */
  inResponseHeaders?: readonly string[];
}

/** An OpenAI error event in the middle of a stream, instead of the rest of it (no [DONE] follows). */
export interface FakeStreamError {
  /** Stream events sent before the error (the role chunk is the first). */
  afterChunks: number;
  message?: string;
  type?: string;
  code?: string | null;
}

/** A successful answer, as JSON or as an SSE stream. */
export interface FakeAnswer {
  /** The assistant's text (default: a fixed sentence; with `chunks` alone: "chunk1 chunk2 …"). */
  content?: string;
  /** Exact stream pieces; the JSON answer's content is their concatenation. */
  deltas?: readonly string[];
  /** Number of content chunks in a stream (default: one per word of the content). */
  chunks?: number;
  /** Delay between two stream events, in ms (default 0: the whole stream is written at once). */
  chunkDelayMs?: number;
  /** Destroy the connection after this many stream events (the role chunk is the first), without [DONE]. */
  breakAfterChunks?: number;
  usage?: FakeUsage;
  /** The response's `model` (default: the request's model). */
  model?: string;
  /** The response's `id` (default: a fresh `chatcmpl-fake…` / `cmpl-fake…`). */
  id?: string;
  finishReason?: FakeFinishReason;
  systemFingerprint?: string;
  /** Chat only: answer with these tool calls instead of text (finish reason `tool_calls`). */
  toolCalls?: readonly FakeToolCall[];
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Ends the stream with an error event (a JSON answer ignores it). */
  streamError?: FakeStreamError;
  /** Echoes the request's credentials in the stream error and in response headers. */
  echo?: FakeEcho;
}

export interface FakeError {
  status: number;
  /** Defaults follow what OpenAI answers for the status (e.g. 429: type `requests`, code `rate_limit_exceeded`). */
  message?: string;
  type?: string;
  param?: string | null;
  code?: string | null;
  /** Seconds, sent as `retry-after` (what 429 and 503 answers carry). */
  retryAfter?: number;
  /** Milliseconds, sent as `retry-after-ms` (read by the official OpenAI clients). */
  retryAfterMs?: number;
  headers?: Record<string, string>;
  /** Echoes the request's credentials after the message and in response headers. */
  echo?: FakeEcho;
}

export type FakeBehaviour =
  /** Answers in the form the request asked for: JSON, or SSE when the request has `stream: true`. */
  | ({ kind: 'completion' } & FakeAnswer)
  /** Answers with an SSE stream whatever the request asked for. */
  | ({ kind: 'stream' } & FakeAnswer)
  /** Answers with an OpenAI error object and this status. */
  | ({ kind: 'error' } & FakeError)
  /** Waits, then behaves as `then` (default: the normal answer for the request). */
  | { kind: 'delay'; ms: number; then?: FakeBehaviour }
  /** Anything OpenAI would not send (malformed JSON, odd SSE, wrong content type). */
  | { kind: 'raw'; status?: number; headers?: Record<string, string>; body: string; echo?: FakeEcho }
  /** Drops the connection before answering (a reset upstream). */
  | { kind: 'disconnect' };

/** Errors as OpenAI sends them, for the cases a gateway maps into its error taxonomy. */
export const fakeErrors = {
  rateLimited: (retryAfter = 1): FakeBehaviour => ({ kind: 'error', status: 429, retryAfter }),
  quotaExceeded: (): FakeBehaviour => ({
    kind: 'error',
    status: 429,
    message: 'You exceeded your current quota, please check your plan and billing details.',
    type: 'insufficient_quota',
    code: 'insufficient_quota',
  }),
  invalidApiKey: (): FakeBehaviour => ({
    kind: 'error',
    status: 401,
    message: 'Incorrect API key provided: sk-fake***. You can find your API key at https://platform.openai.com/account/api-keys.',
    type: 'invalid_request_error',
    code: 'invalid_api_key',
  }),
  contextLengthExceeded: (): FakeBehaviour => ({
    kind: 'error',
    status: 400,
    message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
    type: 'invalid_request_error',
    param: 'messages',
    code: 'context_length_exceeded',
  }),
  /** A 401 whose message echoes the key it was sent, plain, base64 and hex. */
  echoingInvalidApiKey: (echo: FakeEcho = {}): FakeBehaviour => ({
    kind: 'error',
    status: 401,
    message: 'Incorrect API key provided.',
    type: 'invalid_request_error',
    code: 'invalid_api_key',
    echo,
  }),
  modelNotFound: (): FakeBehaviour => ({ kind: 'error', status: 404 }),
  serverError: (): FakeBehaviour => ({ kind: 'error', status: 500 }),
  overloaded: (retryAfter?: number): FakeBehaviour => ({ kind: 'error', status: 503, retryAfter }),
} as const;
