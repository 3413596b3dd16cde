/**
 * What the fake Gemini upstream (AI Studio and Vertex AI URL forms) answers. As with the other fakes,
 * a test queues behaviours (`enqueue`, `script`) or sets a sticky default (`setDefault`); each
 * generateContent, streamGenerateContent, batchEmbedContents, embedContent and predict request takes
 * the next one (an embedding request answers vectors for a `content` behaviour).
 */

/** Token counts in Gemini's terms: prompt includes cached, candidates exclude thoughts. */
export interface FakeGeminiUsage {
  promptTokens?: number;
  candidatesTokens?: number;
  cachedTokens?: number;
  thoughtsTokens?: number;
}

export interface FakeGeminiFunctionCall {
  name: string;
  args: Record<string, unknown>;
}

/** An `{"error": …}` SSE event instead of the rest of the stream (what Google sends when it fails mid-stream). */
export interface FakeGeminiStreamError {
  /** Chunks sent before the error. */
  afterChunks: number;
  code?: number;
  status?: string;
  message?: string;
}

export interface FakeGeminiAnswer {
  /** The answer's text (default: a fixed sentence); streamed one chunk per word unless `deltas` is given. */
  text?: string;
  deltas?: readonly string[];
  /** A thought summary (a part with thought: true) before the text. */
  thoughts?: string;
  /** Function calls instead of text. */
  functionCalls?: readonly FakeGeminiFunctionCall[];
  /** The thoughtSignature a thinking model puts on the first function call part (base64). */
  thoughtSignature?: string;
  /** Default STOP. */
  finishReason?: string;
  /** The same answer in this many candidates (candidateCount). Default: the request's candidateCount, else 1. */
  candidates?: number;
  /** Answer no candidate, with promptFeedback.blockReason (a blocked prompt). */
  blockReason?: string;
  usage?: FakeGeminiUsage;
  /** Default: the request's model. */
  modelVersion?: string;
  /** Default: a fresh id. */
  responseId?: string;
  streamError?: FakeGeminiStreamError;
  /** Destroy the connection after this many stream chunks. */
  breakAfterChunks?: number;
  chunkDelayMs?: number;
  headers?: Record<string, string>;
}

export interface FakeGeminiError {
  /** HTTP status. */
  status: number;
  /** Google's canonical status name (default: the one Google uses for the HTTP status). */
  googleStatus?: string;
  message?: string;
  /** google.rpc.RetryInfo's retryDelay, e.g. "17s". */
  retryDelay?: string;
  /** google.rpc.ErrorInfo's reason, e.g. API_KEY_INVALID. */
  reason?: string;
  headers?: Record<string, string>;
}

export type FakeGeminiBehaviour =
  | ({ kind: 'content' } & FakeGeminiAnswer)
  | ({ kind: 'error' } & FakeGeminiError)
  | { kind: 'delay'; ms: number; then?: FakeGeminiBehaviour }
  | { kind: 'raw'; status?: number; headers?: Record<string, string>; body: string }
  | { kind: 'disconnect' };

/** https://cloud.google.com/apis/design/errors#handling_errors */
export const GOOGLE_STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export const DEFAULT_GEMINI_TEXT = 'This is a fake Gemini answer.';

export const fakeGeminiErrors = {
  rateLimited: (retryDelay = '17s'): FakeGeminiBehaviour => ({
    kind: 'error',
    status: 429,
    message: 'You exceeded your current quota, please check your plan and billing details.',
    retryDelay,
  }),
  invalidApiKey: (): FakeGeminiBehaviour => ({ kind: 'error', status: 400, message: 'API key not valid. Please pass a valid API key.', reason: 'API_KEY_INVALID' }),
  tooManyTokens: (): FakeGeminiBehaviour => ({
    kind: 'error',
    status: 400,
    message: 'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).',
  }),
  overloaded: (): FakeGeminiBehaviour => ({ kind: 'error', status: 503, message: 'The model is overloaded. Please try again later.' }),
  internal: (): FakeGeminiBehaviour => ({ kind: 'error', status: 500, message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting' }),
} as const;
