import { BENCH_MODELS, UPSTREAM_KEY, UPSTREAM_MODEL } from './product-setup.js';
import type { PreparedRequest } from './load-generator.js';

/** The requests each path is sent, serialised once: the same question, addressed as each path expects. */

export type PathKind = 'direct' | 'floor' | 'gateway';
export type Prompt = 'short' | '100k';

export interface RequestShape {
  kind: PathKind;
  /** The gateway's model name (direct and floor always ask the upstream's model). */
  model: string;
  stream: boolean;
  prompt: Prompt;
  /** Through the slow upstream (floor: its /slow/ route; direct: the slow upstream itself). */
  slow?: boolean;
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
