import { ANTHROPIC_UPSTREAM_KEY, ANTHROPIC_UPSTREAM_MODEL, BENCH_MODELS, UPSTREAM_EMBEDDING_MODEL, UPSTREAM_KEY, UPSTREAM_MODEL } from './product-setup.js';
import type { PreparedRequest } from './load-generator.js';

/** The requests each path is sent, serialised once: the same question, addressed as each path expects. */

export type PathKind = 'direct' | 'floor' | 'gateway';
export type Prompt = 'short' | '100k';
/** The client's API: OpenAI chat completions (default), OpenAI embeddings, or Anthropic's messages. */
export type Api = 'chat' | 'embeddings' | 'messages';

export interface RequestShape {
  kind: PathKind;
  /** The gateway's model name (direct and floor always ask the upstream's model). */
  model: string;
  stream: boolean;
  prompt: Prompt;
  /** Through the slow upstream (floor: its /slow/ route; direct: the slow upstream itself). */
  slow?: boolean;
  /** Default chat. */
  api?: Api;
  /** Embeddings: the encoding asked for (the openai client asks for base64 unless told otherwise). */
  encoding?: 'base64' | 'float';
  /** Direct path: the Anthropic-format upstream rather than the OpenAI-format one. */
  anthropicUpstream?: boolean;
  /** Messages to the gateway: the key as `authorization: Bearer` (current SDKs) instead of x-api-key. */
  bearer?: boolean;
}

const SHORT_PROMPT = 'Write one short sentence about the sea.';

const WORDS = [
  'the', 'gateway', 'forwards', 'every', 'request', 'to', 'an', 'upstream', 'provider', 'and', 'records', 'its', 'usage',
  'while', 'a', 'careful', 'reader', 'checks', 'that', 'nothing', 'is', 'lost', 'between', 'client', 'server', 'model',
  'token', 'budget', 'latency', 'stream', 'chunk', 'answer', 'question', 'about', 'ocean', 'weather', 'mountain', 'river',
  'history', 'of', 'science', 'with', 'many', 'small', 'details', 'in', 'plain', 'english', 'sentences', 'for', 'testing',
];

let cachedLongPrompt: string | undefined;

/** ~100 KB of English-like text (~20k tokens): varied words so the tokenizer does real work. */
export function longPrompt(bytes = 100 * 1024): string {
  if (cachedLongPrompt?.length === bytes) return cachedLongPrompt;
  let seed = 42;
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const word = WORDS[seed % WORDS.length]!;
    const sep = seed % 13 === 0 ? '. ' : ' ';
    parts.push(word, sep);
    length += word.length + sep.length;
  }
  cachedLongPrompt = parts.join('').slice(0, bytes);
  return cachedLongPrompt;
}

/** A realistic input to embed: a few sentences, as a retrieval index would send a passage. */
export const EMBEDDING_INPUT =
  'The gateway forwards every request to the provider the model is routed to and records its usage. ' +
  'Operators connect their own providers once, describe their models and prices, and give each service a key. ' +
  'When a provider fails, the gateway can fall back to another one, and every call is traced and priced.';

/** The anthropic-version the official client (@anthropic-ai/sdk 1.17) sends (https://docs.anthropic.com/en/api/versioning). */
export const ANTHROPIC_VERSION = '2026-10-21';

/** The request a path is sent, for the shape's API. */
export function prepareRequest(shape: RequestShape, auth: { clientKey: string }): PreparedRequest {
  if (shape.api === 'embeddings') return prepareEmbeddingsRequest(shape, auth);
  if (shape.api === 'messages') return prepareMessagesRequest(shape, auth);
  return prepareChatRequest(shape, auth);
}

/** POST /v1/embeddings as the openai client sends it: one input, encoding_format base64 unless float is asked for. */
export function prepareEmbeddingsRequest(shape: RequestShape, auth: { clientKey: string }): PreparedRequest {
  const body = {
    model: shape.kind === 'gateway' ? shape.model : shape.kind === 'floor' ? BENCH_MODELS.embedding : UPSTREAM_EMBEDDING_MODEL,
    input: EMBEDDING_INPUT,
    encoding_format: shape.encoding ?? 'base64',
  };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (shape.kind === 'direct') headers.authorization = `Bearer ${UPSTREAM_KEY}`;
  if (shape.kind === 'gateway') headers.authorization = `Bearer ${auth.clientKey}`;
  return { path: '/v1/embeddings', headers, body: Buffer.from(JSON.stringify(body)) };
}

/**
 * POST /v1/messages as Anthropic's clients send it: anthropic-version, the key as x-api-key or as
 * Bearer (what @anthropic-ai/sdk 1.x sends), system apart from the messages, max_tokens required. Direct: the Anthropic upstream with
 * its own key and model. The floor does not serve this format (see the README's floor definition).
 */
export function prepareMessagesRequest(shape: RequestShape, auth: { clientKey: string }): PreparedRequest {
  if (shape.kind === 'floor') throw new Error('the floor proxy serves OpenAI-format requests only: give the scenario an OpenAI-format floor path');
  const direct = shape.kind === 'direct';
  const body: Record<string, unknown> = {
    model: direct ? ANTHROPIC_UPSTREAM_MODEL : shape.model,
    max_tokens: 1024,
    system: 'You are a benchmark.',
    messages: [{ role: 'user', content: shape.prompt === '100k' ? longPrompt() : SHORT_PROMPT }],
  };
  if (shape.stream) body.stream = true;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': ANTHROPIC_VERSION };
  const key = direct ? ANTHROPIC_UPSTREAM_KEY : auth.clientKey;
  if (shape.bearer && !direct) headers.authorization = `Bearer ${key}`;
  else headers['x-api-key'] = key;
  return { path: '/v1/messages', headers, body: Buffer.from(JSON.stringify(body)) };
}

export function prepareChatRequest(shape: RequestShape, auth: { clientKey: string }): PreparedRequest {
  const body: Record<string, unknown> = {
    model: shape.kind === 'gateway' ? shape.model : shape.kind === 'floor' ? BENCH_MODELS.plain : UPSTREAM_MODEL,
    messages: [
      { role: 'system', content: 'You are a benchmark.' },
      { role: 'user', content: shape.prompt === '100k' ? longPrompt() : SHORT_PROMPT },
    ],
  };
  if (shape.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (shape.kind === 'direct') headers.authorization = `Bearer ${UPSTREAM_KEY}`;
  if (shape.kind === 'gateway') headers.authorization = `Bearer ${auth.clientKey}`;
  return {
    path: shape.kind === 'floor' && shape.slow ? '/slow/v1/chat/completions' : '/v1/chat/completions',
    headers,
    body: Buffer.from(JSON.stringify(body)),
  };
}
