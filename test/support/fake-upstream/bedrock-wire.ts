import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { createHash } from 'node:crypto';

/**
 * Bedrock runtime's wire shapes for the fake: Converse answers, ConverseStream's binary event-stream
 * messages (encoded with the AWS SDK's own codec), InvokeModel answers for Titan and Cohere
 * embeddings, and the JSON error bodies with their x-amzn-ErrorType.
 */

/** What the fake answers: queued (`enqueue`, `script` by model id) or set as a default. */
export type FakeBedrockBehaviour =
  | ({ kind: 'answer' } & FakeBedrockAnswer)
  /** A non-2xx answer as Bedrock writes it: `{message}` and the type in x-amzn-ErrorType. */
  | { kind: 'error'; status: number; type: string; message: string; retryAfter?: number }
  /** ConverseStream: the answer's first `afterEvents` events, then an exception frame (:message-type exception). */
  | ({ kind: 'stream-exception'; afterEvents: number; exception: string; message: string } & FakeBedrockAnswer)
  | { kind: 'delay'; ms: number; then?: FakeBedrockBehaviour }
  | { kind: 'disconnect' };

export interface FakeBedrockToolUse {
  toolUseId?: string;
  name: string;
  input: Record<string, unknown>;
}

export interface FakeBedrockAnswer {
  /** Default: a fixed sentence (none when only tool uses are given). */
  text?: string;
  toolUses?: readonly FakeBedrockToolUse[];
  /** Default tool_use when there are tool uses, else end_turn. */
  stopReason?: string;
  /** Default: inputTokens estimated from the request, outputTokens one per word. */
  usage?: { inputTokens?: number; outputTokens?: number; cacheReadInputTokens?: number; cacheWriteInputTokens?: number };
}

export const DEFAULT_BEDROCK_TEXT = 'Hello from Bedrock, streamed word by word.';

export const bedrockCodec = new EventStreamCodec(toUtf8, fromUtf8);

const str = (value: string) => ({ type: 'string' as const, value });

/** One event message, with the `p` padding field Bedrock adds to hide payload sizes. */
export function bedrockEvent(eventType: string, payload: Record<string, unknown>): Uint8Array {
  return bedrockCodec.encode({
    headers: { ':event-type': str(eventType), ':content-type': str('application/json'), ':message-type': str('event') },
    body: fromUtf8(JSON.stringify({ ...payload, p: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ'.slice(0, 1 + (eventType.length % 20)) })),
  });
}

/** An exception message in the stream (e.g. modelStreamErrorException, throttlingException). */
export function bedrockException(exceptionType: string, message: string): Uint8Array {
  return bedrockCodec.encode({
    headers: { ':exception-type': str(exceptionType), ':content-type': str('application/json'), ':message-type': str('exception') },
    body: fromUtf8(JSON.stringify(exceptionType === 'modelStreamErrorException' ? { message, originalStatusCode: 500, originalMessage: message } : { message })),
  });
}

/** Rough token count of every text in a Converse or InvokeModel request (4 characters a token). */
export function estimateTokens(body: unknown): number {
  let chars = 0;
  const walk = (v: unknown): void => {
    if (typeof v === 'string') chars += v.length;
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) if (k !== 'bytes') walk(x);
    }
  };
  walk(body);
  return Math.max(1, Math.ceil(chars / 4));
}

function usageOf(a: FakeBedrockAnswer, request: unknown, text: string) {
  const inputTokens = a.usage?.inputTokens ?? estimateTokens(request);
  const outputTokens = a.usage?.outputTokens ?? Math.max(1, text.split(/\s+/).filter(Boolean).length);
  const usage: Record<string, number> = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens + (a.usage?.cacheReadInputTokens ?? 0) + (a.usage?.cacheWriteInputTokens ?? 0) };
  if (a.usage?.cacheReadInputTokens !== undefined) usage.cacheReadInputTokens = a.usage.cacheReadInputTokens;
  if (a.usage?.cacheWriteInputTokens !== undefined) usage.cacheWriteInputTokens = a.usage.cacheWriteInputTokens;
  return usage;
}

function textOf(a: FakeBedrockAnswer): string {
  return a.text ?? (a.toolUses && a.toolUses.length > 0 ? '' : DEFAULT_BEDROCK_TEXT);
}

const toolUseId = (t: FakeBedrockToolUse, i: number): string => t.toolUseId ?? `tooluse_fake${i}`;
const stopReasonOf = (a: FakeBedrockAnswer): string => a.stopReason ?? (a.toolUses && a.toolUses.length > 0 ? 'tool_use' : 'end_turn');

/** A Converse answer (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_ResponseSyntax). */
export function converseResponse(a: FakeBedrockAnswer, request: unknown): Record<string, unknown> {
  const text = textOf(a);
  const content: Record<string, unknown>[] = [];
  if (text) content.push({ text });
  (a.toolUses ?? []).forEach((t, i) => content.push({ toolUse: { toolUseId: toolUseId(t, i), name: t.name, input: t.input } }));
  return { output: { message: { role: 'assistant', content } }, stopReason: stopReasonOf(a), usage: usageOf(a, request, text), metrics: { latencyMs: 42 } };
}

/** A ConverseStream answer's events, in order: messageStart, the blocks, messageStop, metadata. */
export function converseStreamEvents(a: FakeBedrockAnswer, request: unknown): Uint8Array[] {
  const text = textOf(a);
  const events: Uint8Array[] = [bedrockEvent('messageStart', { role: 'assistant' })];
  let block = 0;
  if (text) {
    for (const piece of text.match(/\S+\s*|\s+/g) ?? []) events.push(bedrockEvent('contentBlockDelta', { contentBlockIndex: block, delta: { text: piece } }));
    events.push(bedrockEvent('contentBlockStop', { contentBlockIndex: block }));
    block++;
  }
  (a.toolUses ?? []).forEach((t, i) => {
    events.push(bedrockEvent('contentBlockStart', { contentBlockIndex: block, start: { toolUse: { toolUseId: toolUseId(t, i), name: t.name } } }));
    const json = JSON.stringify(t.input);
    const third = Math.ceil(json.length / 3);
    for (let at = 0; at < json.length; at += third) events.push(bedrockEvent('contentBlockDelta', { contentBlockIndex: block, delta: { toolUse: { input: json.slice(at, at + third) } } }));
    events.push(bedrockEvent('contentBlockStop', { contentBlockIndex: block }));
    block++;
  });
  events.push(bedrockEvent('messageStop', { stopReason: stopReasonOf(a) }));
  events.push(bedrockEvent('metadata', { usage: usageOf(a, request, text), metrics: { latencyMs: 42 } }));
  return events;
}

/** A deterministic unit-ish vector for a text: the same text always embeds the same. */
export function fakeVector(text: string, dimensions: number): number[] {
  const out: number[] = [];
  let seed = createHash('sha256').update(text).digest();
  while (out.length < dimensions) {
    for (let i = 0; i + 1 < seed.length && out.length < dimensions; i += 2) out.push(Math.round(((seed.readUInt16BE(i) / 65535) * 2 - 1) * 1e6) / 1e6);
    seed = createHash('sha256').update(seed).digest();
  }
  return out;
}

/** An InvokeModel answer for Titan or Cohere embeddings; undefined for a model that is neither. */
export function invokeEmbeddingResponse(modelId: string, body: unknown): { status: number; body: Record<string, unknown> } | undefined {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (/amazon\.titan-embed/.test(modelId)) {
    if (typeof b.inputText !== 'string') return { status: 400, body: { message: 'Malformed input request: #: required key [inputText] not found, please reformat your input and try again.' } };
    const dimensions = typeof b.dimensions === 'number' ? b.dimensions : 1024;
    return { status: 200, body: { embedding: fakeVector(b.inputText, dimensions), embeddingsByType: { float: fakeVector(b.inputText, dimensions) }, inputTextTokenCount: estimateTokens(b.inputText) } };
  }
  if (/cohere\.embed/.test(modelId)) {
    if (!Array.isArray(b.texts) || typeof b.input_type !== 'string') return { status: 400, body: { message: 'Malformed input request: texts and input_type are required' } };
    const texts = b.texts.map(String);
    return { status: 200, body: { id: 'emb-fake-1', texts, embeddings: texts.map((t) => fakeVector(t, 1024)), response_type: 'embeddings_floats' } };
  }
  return undefined;
}
