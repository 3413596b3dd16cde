import type { FakeAnswer, FakeError, FakeUsage } from './fake-behaviour.js';

/**
 * OpenAI's wire objects, built the way api.openai.com sends them (fields it always sends are always
 * here, null where it sends null). Shapes: https://platform.openai.com/docs/api-reference/chat/object
 * and the response schemas in test/fixtures/openai-openapi/, which the unit test validates against.
 */

export const DEFAULT_CONTENT = 'Hello from the fake OpenAI upstream.';
export const DEFAULT_PROMPT_TOKENS = 10;
export const DEFAULT_SYSTEM_FINGERPRINT = 'fp_fake0001';
export const DEFAULT_MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-3.5-turbo-instruct', 'text-embedding-3-small'] as const;

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: { reasoning_tokens: number; audio_tokens: number; accepted_prediction_tokens: number; rejected_prediction_tokens: number };
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string | null; refusal: null; annotations: []; tool_calls?: OpenAIToolCall[] };
    logprobs: null;
    finish_reason: string;
  }[];
  usage: OpenAIUsage;
  service_tier: 'default';
  system_fingerprint: string;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  service_tier: 'default';
  system_fingerprint: string;
  choices: { index: number; delta: Record<string, unknown>; logprobs: null; finish_reason: string | null }[];
  usage?: OpenAIUsage | null;
}

export interface TextCompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: { text: string; index: number; logprobs: null; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  system_fingerprint: string;
}

let idSeq = 0;
/** Ids unique within the process, shaped like OpenAI's. */
export function nextId(prefix: 'chatcmpl' | 'cmpl' | 'call'): string {
  idSeq += 1;
  return `${prefix}-fake${Date.now().toString(36)}${idSeq.toString(36)}`;
}

export const unixNow = (): number => Math.floor(Date.now() / 1000);

/** The stream pieces of an answer; the JSON answer's content is their concatenation. */
export function answerDeltas(answer: FakeAnswer): string[] {
  if (answer.deltas) return [...answer.deltas];
  if (answer.content === undefined && answer.chunks !== undefined) {
    return Array.from({ length: Math.max(1, answer.chunks) }, (_, i) => `${i === 0 ? '' : ' '}chunk${i + 1}`);
  }
  const content = answer.content ?? DEFAULT_CONTENT;
  if (answer.chunks === undefined) {
    const words = content.match(/\S+\s*|\s+/g);
    return words ?? [''];
  }
  // N slices of near-equal length, never empty unless the content is.
  const n = Math.min(Math.max(1, answer.chunks), Math.max(1, content.length));
  const pieces: string[] = [];
  for (let i = 0; i < n; i++) pieces.push(content.slice(Math.floor((i * content.length) / n), Math.floor(((i + 1) * content.length) / n)));
  return pieces;
}

export function openAIUsage(usage: FakeUsage | undefined, defaultCompletionTokens: number): OpenAIUsage {
  const prompt = usage?.promptTokens ?? DEFAULT_PROMPT_TOKENS;
  const completion = usage?.completionTokens ?? defaultCompletionTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: usage?.cachedTokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: usage?.reasoningTokens ?? 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function toolCalls(answer: FakeAnswer): OpenAIToolCall[] | undefined {
  return answer.toolCalls?.map((t) => ({ id: t.id ?? nextId('call'), type: 'function', function: { name: t.name, arguments: t.arguments } }));
}

/** A whole chat answer. `requestModel` is echoed unless the answer names another model. */
export function chatCompletion(answer: FakeAnswer, requestModel: string, id = answer.id ?? nextId('chatcmpl'), created = unixNow()): ChatCompletion {
  const deltas = answerDeltas(answer);
  const calls = toolCalls(answer);
  return {
    id,
    object: 'chat.completion',
    created,
    model: answer.model ?? requestModel,
    choices: [
      {
        index: 0,
        message: calls
          ? { role: 'assistant', content: null, refusal: null, annotations: [], tool_calls: calls }
          : { role: 'assistant', content: deltas.join(''), refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: answer.finishReason ?? (calls ? 'tool_calls' : 'stop'),
      },
    ],
    usage: openAIUsage(answer.usage, calls ? 12 : deltas.length),
    service_tier: 'default',
    system_fingerprint: answer.systemFingerprint ?? DEFAULT_SYSTEM_FINGERPRINT,
  };
}

/**
 * The chunks of a streamed chat answer, in order: the role chunk, the content (or tool-call) chunks,
 * the finish chunk, and with `include_usage` a last chunk with `choices: []` and the usage (every
 * chunk before it then carries `usage: null`, as OpenAI's do). The `[DONE]` sentinel is not a chunk.
 */
export function chatCompletionChunks(answer: FakeAnswer, requestModel: string, includeUsage: boolean, id = answer.id ?? nextId('chatcmpl'), created = unixNow()): ChatCompletionChunk[] {
  const base = { id, object: 'chat.completion.chunk', created, model: answer.model ?? requestModel, service_tier: 'default', system_fingerprint: answer.systemFingerprint ?? DEFAULT_SYSTEM_FINGERPRINT } as const;
  const usageNull = includeUsage ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, finish: string | null): ChatCompletionChunk => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...usageNull,
  });
  const calls = toolCalls(answer);
  const deltas = answerDeltas(answer);
  const chunks: ChatCompletionChunk[] = [chunk({ role: 'assistant', content: calls ? null : '', refusal: null }, null)];
  if (calls) {
    // OpenAI sends each call's id and name first, then its arguments in fragments.
    calls.forEach((c, index) => {
      chunks.push(chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } }] }, null));
      const half = Math.ceil(c.function.arguments.length / 2);
      for (const part of [c.function.arguments.slice(0, half), c.function.arguments.slice(half)]) {
        if (part) chunks.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }, null));
      }
    });
  } else {
    for (const d of deltas) chunks.push(chunk({ content: d }, null));
  }
  chunks.push(chunk({}, answer.finishReason ?? (calls ? 'tool_calls' : 'stop')));
  if (includeUsage) chunks.push({ ...base, choices: [], usage: openAIUsage(answer.usage, calls ? 12 : deltas.length) });
  return chunks;
}

function legacyUsage(answer: FakeAnswer, deltas: string[]): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const u = openAIUsage(answer.usage, deltas.length);
  return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens };
}

/** POST /v1/completions (legacy text completions). */
export function textCompletion(answer: FakeAnswer, requestModel: string, id = answer.id ?? nextId('cmpl'), created = unixNow()): TextCompletion {
  const deltas = answerDeltas(answer);
  return {
    id,
    object: 'text_completion',
    created,
    model: answer.model ?? requestModel,
    choices: [{ text: deltas.join(''), index: 0, logprobs: null, finish_reason: answer.finishReason ?? 'stop' }],
    usage: legacyUsage(answer, deltas),
    system_fingerprint: answer.systemFingerprint ?? DEFAULT_SYSTEM_FINGERPRINT,
  };
}

/**
 * Streamed legacy completions: text chunks with `finish_reason: null` (as OpenAI sends them, although
 * its schema does not allow null there), a last text chunk with the finish reason, then the usage chunk.
 */
export function textCompletionChunks(answer: FakeAnswer, requestModel: string, includeUsage: boolean, id = answer.id ?? nextId('cmpl'), created = unixNow()): TextCompletion[] {
  const deltas = answerDeltas(answer);
  const base = { id, object: 'text_completion', created, model: answer.model ?? requestModel, system_fingerprint: answer.systemFingerprint ?? DEFAULT_SYSTEM_FINGERPRINT } as const;
  // Unlike chat chunks these carry no `usage: null`: the legacy schema has no null there.
  const chunks: TextCompletion[] = deltas.map((text) => ({ ...base, choices: [{ text, index: 0, logprobs: null, finish_reason: null }] }));
  chunks.push({ ...base, choices: [{ text: '', index: 0, logprobs: null, finish_reason: answer.finishReason ?? 'stop' }] });
  if (includeUsage) chunks.push({ ...base, choices: [], usage: legacyUsage(answer, deltas) });
  return chunks;
}

/**
 * A deterministic embedding: every value is k/32, exactly representable as a float32, so the base64
 * form (little-endian float32, what OpenAI sends) decodes to the very numbers of the float form.
 */
export function embeddingVector(index: number, dimensions: number): number[] {
  return Array.from({ length: dimensions }, (_, j) => (((index * 7 + j) % 16) + 1) / 32);
}

export function embeddingBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

export const EMBEDDING_TOKENS_PER_INPUT = 4;

export function embeddingsResponse(requestModel: string, inputs: number, dimensions: number, encoding: 'float' | 'base64'): {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
} {
  const tokens = inputs * EMBEDDING_TOKENS_PER_INPUT;
  return {
    object: 'list',
    data: Array.from({ length: inputs }, (_, index) => {
      const vector = embeddingVector(index, dimensions);
      return { object: 'embedding', index, embedding: encoding === 'base64' ? embeddingBase64(vector) : vector };
    }),
    model: requestModel,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

export function modelsList(ids: readonly string[], created: number): { object: 'list'; data: { id: string; object: 'model'; created: number; owned_by: string }[] } {
  return { object: 'list', data: ids.map((id) => ({ id, object: 'model', created, owned_by: 'system' })) };
}

export function errorBody(message: string, type: string, param: string | null = null, code: string | null = null): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

/** What OpenAI answers for a status when the test does not say more. */
export function openAIError(e: FakeError, requestModel: string | undefined): OpenAIErrorBody {
  const model = requestModel ?? 'unknown';
  const defaults: Record<number, [string, string, string | null]> = {
    400: ['Invalid request.', 'invalid_request_error', null],
    401: ['Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key'],
    403: ['You are not allowed to sample from this model.', 'invalid_request_error', null],
    404: [`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'],
    429: [
      `Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${e.retryAfter ?? 20}s.`,
      'requests',
      'rate_limit_exceeded',
    ],
    500: ['The server had an error while processing your request. Sorry about that!', 'server_error', null],
    502: ['Bad gateway.', 'server_error', null],
    503: ['The server is overloaded or not ready yet.', 'server_error', null],
  };
  const [message, type, code] = defaults[e.status] ?? [`HTTP ${e.status}`, e.status >= 500 ? 'server_error' : 'invalid_request_error', null];
  return errorBody(e.message ?? message, e.type ?? type, e.param ?? null, e.code === undefined ? code : e.code);
}
