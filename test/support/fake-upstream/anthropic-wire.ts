import type Anthropic from '@anthropic-ai/sdk';
import { ANTHROPIC_ERROR_TYPES, type FakeAnthropicAnswer, type FakeAnthropicBlock, type FakeAnthropicError, type FakeAnthropicUsage } from './anthropic-behaviour.js';

/**
 * Anthropic Messages API bodies and stream events built from a behaviour, typed with the official
 * SDK's types so a field its client needs cannot be missing
 * (https://docs.anthropic.com/en/api/messages, /en/api/messages-streaming, /en/api/errors).
 */

export const DEFAULT_ANTHROPIC_TEXT = 'Hello from the fake Anthropic upstream.';
export const DEFAULT_ANTHROPIC_MODELS: readonly string[] = ['claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001', 'claude-opus-4-1-20250805'];

/** Stream events plus the two the SDK's event union leaves out. */
export type AnthropicWireEvent = Anthropic.RawMessageStreamEvent | { type: 'ping' } | { type: 'error'; error: { type: string; message: string } };

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id?: string | null;
}

let idSeq = 0;
export function fakeMessageId(): string {
  return `msg_fake${Date.now().toString(36)}${(++idSeq).toString(36)}`;
}

export function anthropicErrorBody(type: string, message: string, requestId?: string | null): AnthropicErrorBody {
  return requestId === undefined ? { type: 'error', error: { type, message } } : { type: 'error', error: { type, message }, request_id: requestId };
}

const DEFAULT_ERROR_MESSAGES: Readonly<Record<string, string>> = {
  invalid_request_error: 'Invalid request.',
  authentication_error: 'invalid x-api-key',
  billing_error: 'Your credit balance is too low to access the Anthropic API.',
  permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'Not found.',
  request_too_large: 'Request exceeds the maximum allowed number of bytes.',
  rate_limit_error: 'This request would exceed the rate limit for your organization of 50 requests per minute.',
  api_error: 'Internal server error',
  timeout_error: 'Request timed out.',
  overloaded_error: 'Overloaded',
};

export function anthropicError(e: FakeAnthropicError, requestId: string | null): AnthropicErrorBody {
  const type = e.type ?? ANTHROPIC_ERROR_TYPES[e.status] ?? (e.status >= 500 ? 'api_error' : 'invalid_request_error');
  return anthropicErrorBody(type, e.message ?? DEFAULT_ERROR_MESSAGES[type] ?? 'Error', e.requestId === undefined ? requestId : e.requestId);
}

/** What a 429 carries besides retry-after (https://docs.anthropic.com/en/api/rate-limits#response-headers). */
export function rateLimitHeaders(retryAfter: number | undefined): Record<string, string> {
  const reset = new Date(Date.now() + (retryAfter ?? 60) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    'anthropic-ratelimit-requests-limit': '50',
    'anthropic-ratelimit-requests-remaining': '0',
    'anthropic-ratelimit-requests-reset': reset,
    'anthropic-ratelimit-tokens-limit': '40000',
    'anthropic-ratelimit-tokens-remaining': '0',
    'anthropic-ratelimit-tokens-reset': reset,
    'anthropic-ratelimit-input-tokens-limit': '30000',
    'anthropic-ratelimit-input-tokens-remaining': '0',
    'anthropic-ratelimit-input-tokens-reset': reset,
    'anthropic-ratelimit-output-tokens-limit': '8000',
    'anthropic-ratelimit-output-tokens-remaining': '0',
    'anthropic-ratelimit-output-tokens-reset': reset,
  };
}

/** The blocks an answer describes (a text block of `content` when it gives none). */
function blocksOf(a: FakeAnthropicAnswer): readonly FakeAnthropicBlock[] {
  return a.blocks ?? [{ type: 'text', text: a.content ?? DEFAULT_ANTHROPIC_TEXT }];
}

function textOf(b: Extract<FakeAnthropicBlock, { type: 'text' }>): string {
  return b.text ?? b.deltas?.join('') ?? DEFAULT_ANTHROPIC_TEXT;
}

let toolSeq = 0;
function toolId(b: Extract<FakeAnthropicBlock, { type: 'tool_use' }>): string {
  return b.id ?? `toolu_fake${(++toolSeq).toString(36).padStart(6, '0')}`;
}

function stopReason(a: FakeAnthropicAnswer): Anthropic.StopReason {
  if (a.stopReason) return a.stopReason;
  if (a.stopSequence !== undefined) return 'stop_sequence';
  return blocksOf(a).some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
}

/** Default output: roughly one token per four characters of what was generated. */
function defaultOutputTokens(a: FakeAnthropicAnswer): number {
  let chars = 0;
  for (const b of blocksOf(a)) {
    if (b.type === 'text') chars += textOf(b).length;
    else if (b.type === 'tool_use') chars += JSON.stringify(b.input).length + b.name.length;
    else if (b.type === 'thinking') chars += b.thinking.length;
  }
  return Math.max(1, Math.ceil(chars / 4));
}

export function anthropicUsage(u: FakeAnthropicUsage | undefined, outputTokens: number): Anthropic.Usage {
  const written = u?.cacheCreationInputTokens ?? 0;
  return {
    input_tokens: u?.inputTokens ?? 10,
    output_tokens: outputTokens,
    cache_creation_input_tokens: u?.cacheCreationInputTokens ?? 0,
    cache_read_input_tokens: u?.cacheReadInputTokens ?? 0,
    cache_creation: u?.cacheCreation
      ? { ephemeral_5m_input_tokens: u.cacheCreation.ephemeral5m, ephemeral_1h_input_tokens: u.cacheCreation.ephemeral1h }
      : { ephemeral_5m_input_tokens: written, ephemeral_1h_input_tokens: 0 },
    inference_geo: null,
    output_tokens_details: u?.thinkingTokens === undefined ? null : { thinking_tokens: u.thinkingTokens },
    server_tool_use: null,
    service_tier: 'standard',
    speed: null,
  };
}

/** Fixes tool ids once per answer, so the JSON and the stream of one behaviour agree. */
export interface ResolvedAnswer {
  id: string;
  model: string;
  blocks: readonly (FakeAnthropicBlock & { resolvedId?: string })[];
}

export function resolveAnswer(a: FakeAnthropicAnswer, requestModel: string): ResolvedAnswer {
  return {
    id: a.id ?? fakeMessageId(),
    model: a.model ?? requestModel,
    blocks: blocksOf(a).map((b) => (b.type === 'tool_use' ? { ...b, resolvedId: toolId(b) } : b)),
  };
}

function contentBlock(b: ResolvedAnswer['blocks'][number], streaming: boolean): Anthropic.ContentBlock {
  switch (b.type) {
    case 'text':
      return { type: 'text', text: streaming ? '' : textOf(b), citations: null };
    case 'tool_use':
      return { type: 'tool_use', id: b.resolvedId!, name: b.name, input: streaming ? {} : b.input, caller: { type: 'direct' } };
    case 'thinking':
      return { type: 'thinking', thinking: streaming ? '' : b.thinking, signature: streaming ? '' : b.signature };
    case 'redacted_thinking':
      return { type: 'redacted_thinking', data: b.data };
  }
}

function messageShell(a: FakeAnthropicAnswer, r: ResolvedAnswer, content: Anthropic.ContentBlock[], usage: Anthropic.Usage, done: boolean): Anthropic.Message {
  return {
    id: r.id,
    type: 'message',
    role: 'assistant',
    model: r.model,
    content,
    stop_reason: done ? stopReason(a) : null,
    stop_sequence: done ? (a.stopSequence ?? null) : null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage,
  };
}

/** The JSON answer of POST /v1/messages. */
export function anthropicMessage(a: FakeAnthropicAnswer, r: ResolvedAnswer): Anthropic.Message {
  const output = a.usage?.outputTokens ?? defaultOutputTokens(a);
  return messageShell(a, r, r.blocks.map((b) => contentBlock(b, false)), anthropicUsage(a.usage, output), true);
}

/** Splits text into word-sized pieces, keeping the spaces, so the pieces concatenate back to it. */
function words(text: string): string[] {
  const pieces = text.match(/\S+\s*|\s+/g) ?? [];
  return pieces.length > 0 ? pieces : [text];
}

function lines(text: string): string[] {
  const pieces = text.match(/[^\n]*\n|[^\n]+/g) ?? [];
  return pieces.length > 0 ? pieces : [text];
}

/** Splits a string into n nearly equal pieces (fewer when it is shorter), by code point. */
export function splitInto(text: string, n: number): string[] {
  const chars = Array.from(text);
  const count = Math.max(1, Math.min(n, chars.length));
  const size = Math.ceil(chars.length / count);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out.length > 0 ? out : [''];
}

/** The events of a streamed answer, in the order the API sends them (without the mid-stream error or break). */
export function anthropicStreamEvents(a: FakeAnthropicAnswer, r: ResolvedAnswer): AnthropicWireEvent[] {
  const output = a.usage?.outputTokens ?? defaultOutputTokens(a);
  // message_start reports the input side in full and output_tokens 1, as the API does.
  const startUsage = { ...anthropicUsage(a.usage, 1), output_tokens_details: null };
  const events: AnthropicWireEvent[] = [{ type: 'message_start', message: messageShell(a, r, [], startUsage, false) }];
  let pinged = a.ping === false;
  r.blocks.forEach((b, index) => {
    events.push({ type: 'content_block_start', index, content_block: contentBlock(b, true) });
    if (!pinged) {
      events.push({ type: 'ping' });
      pinged = true;
    }
    switch (b.type) {
      case 'text':
        for (const text of b.deltas ?? words(textOf(b))) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
        break;
      case 'tool_use':
        events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } });
        for (const partial_json of splitInto(JSON.stringify(b.input), b.jsonPieces ?? 3)) {
          events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } });
        }
        break;
      case 'thinking':
        for (const thinking of b.deltas ?? lines(b.thinking)) events.push({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking } });
        events.push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: b.signature } });
        break;
      case 'redacted_thinking':
        break;
    }
    events.push({ type: 'content_block_stop', index });
  });
  if (!pinged) events.push({ type: 'ping' });
  const full = anthropicUsage(a.usage, output);
  const deltas = Math.max(1, a.messageDeltas ?? 1);
  for (let i = 1; i < deltas; i++) {
    events.push({
      type: 'message_delta',
      delta: { stop_reason: null, stop_sequence: null, stop_details: null, container: null },
      usage: { output_tokens: Math.max(1, Math.floor((output * i) / deltas)) } as Anthropic.MessageDeltaUsage,
    });
  }
  events.push({
    type: 'message_delta',
    delta: { stop_reason: stopReason(a), stop_sequence: a.stopSequence ?? null, stop_details: null, container: null },
    // output_tokens is cumulative: the total of the whole answer.
    usage: a.inputUsageInDelta
      ? {
          output_tokens: output,
          input_tokens: full.input_tokens,
          cache_creation_input_tokens: full.cache_creation_input_tokens,
          cache_read_input_tokens: full.cache_read_input_tokens,
          output_tokens_details: full.output_tokens_details,
          server_tool_use: null,
        }
      : ({ output_tokens: output, ...(full.output_tokens_details ? { output_tokens_details: full.output_tokens_details } : {}) } as Anthropic.MessageDeltaUsage),
  });
  events.push({ type: 'message_stop' });
  return events;
}

export function sseEvent(e: AnthropicWireEvent): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/**
 * A deterministic stand-in for count_tokens: one token per four characters of the system prompt,
 * messages and tools as JSON, at least 1. Exported so a test can predict it.
 */
export function estimateInputTokens(body: Record<string, unknown>): number {
  const counted = JSON.stringify([body.system ?? null, body.messages ?? [], body.tools ?? []]);
  return Math.max(1, Math.ceil(counted.length / 4));
}

/** GET /v1/models in Anthropic's list shape (https://docs.anthropic.com/en/api/models-list). */
export function anthropicModelInfo(id: string): Anthropic.ModelInfo {
  return {
    type: 'model',
    id,
    display_name: id,
    created_at: '2025-09-29T00:00:00Z',
    capabilities: null,
    deprecated_at: null,
    lifecycle: 'active',
    line: null,
    max_input_tokens: 200_000,
    max_tokens: 64_000,
    retires_at: null,
  };
}

export function anthropicModelList(ids: readonly string[]): { data: Anthropic.ModelInfo[]; has_more: boolean; first_id: string | null; last_id: string | null } {
  return { data: ids.map(anthropicModelInfo), has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null };
}
