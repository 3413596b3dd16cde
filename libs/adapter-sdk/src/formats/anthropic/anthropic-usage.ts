import type { CanonicalUsage, ErrorKind } from '../../adapter.js';
import type { FinishReason } from '../../canonical.js';
import { isRecord, tokenCount } from '../../error-helpers.js';
import type { AnthropicDeltaUsage, AnthropicErrorType, AnthropicStopReason, AnthropicUsage } from './anthropic-wire.js';

/**
 * Anthropic's usage -> canonical. Anthropic's input_tokens counts only the uncached input: the cache
 * reads and writes come beside it, so the canonical input total is their sum
 * (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#tracking-cache-performance).
 * output_tokens includes thinking; output_tokens_details.thinking_tokens says how much of it.
 */
export function canonicalUsageFromAnthropic(u: unknown): CanonicalUsage | undefined {
  if (!isRecord(u) || (typeof u.input_tokens !== 'number' && typeof u.output_tokens !== 'number')) return undefined;
  const noCache = tokenCount(u.input_tokens);
  const cacheRead = tokenCount(u.cache_read_input_tokens);
  const cacheWrite = tokenCount(u.cache_creation_input_tokens);
  const output = tokenCount(u.output_tokens);
  const reasoning = Math.min(isRecord(u.output_tokens_details) ? tokenCount(u.output_tokens_details.thinking_tokens) : 0, output);
  const extra: Record<string, number> = {};
  if (isRecord(u.cache_creation)) {
    // The cache-write price depends on the TTL: keep the split for pricing.
    if (tokenCount(u.cache_creation.ephemeral_5m_input_tokens) > 0) extra.cache_write_5m = tokenCount(u.cache_creation.ephemeral_5m_input_tokens);
    if (tokenCount(u.cache_creation.ephemeral_1h_input_tokens) > 0) extra.cache_write_1h = tokenCount(u.cache_creation.ephemeral_1h_input_tokens);
  }
  if (isRecord(u.server_tool_use)) {
    for (const [k, v] of Object.entries(u.server_tool_use)) if (tokenCount(v) > 0) extra[k] = tokenCount(v);
  }
  return {
    input: { total: noCache + cacheRead + cacheWrite, noCache, cacheRead, cacheWrite },
    output: { total: output, text: output - reasoning, reasoning },
    extra,
  };
}

/**
 * A message_delta's usage over what message_start said: output_tokens there is cumulative (not an
 * increment), and the input fields, when present, are final.
 * https://docs.anthropic.com/en/api/messages-streaming#event-types
 */
export function mergeAnthropicDeltaUsage(start: Record<string, unknown>, delta: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...start };
  for (const [k, v] of Object.entries(delta)) if (v !== null && v !== undefined) merged[k] = v;
  return merged;
}

export function anthropicUsageFromCanonical(u: CanonicalUsage): AnthropicUsage {
  return {
    input_tokens: u.input.noCache,
    output_tokens: u.output.total,
    cache_read_input_tokens: u.input.cacheRead,
    cache_creation_input_tokens: u.input.cacheWrite,
    cache_creation: null,
    output_tokens_details: u.output.reasoning > 0 ? { thinking_tokens: u.output.reasoning } : null,
    server_tool_use: null,
    inference_geo: null,
    service_tier: null,
    speed: null,
  };
}

export function anthropicDeltaUsageFromCanonical(u: CanonicalUsage): AnthropicDeltaUsage {
  return {
    input_tokens: u.input.noCache,
    output_tokens: u.output.total,
    cache_read_input_tokens: u.input.cacheRead,
    cache_creation_input_tokens: u.input.cacheWrite,
    output_tokens_details: u.output.reasoning > 0 ? { thinking_tokens: u.output.reasoning } : null,
    server_tool_use: null,
  };
}

/** https://docs.anthropic.com/en/api/handling-stop-reasons */
export function finishReasonFromAnthropic(raw: string): FinishReason {
  switch (raw) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool-calls';
    case 'refusal':
      return 'content-filter';
    default:
      // pause_turn (a long server-tool turn to continue) and anything newer.
      return 'other';
  }
}

export function anthropicStopReason(reason: FinishReason, raw: string | undefined, stopSequence: string | undefined): AnthropicStopReason {
  const own: readonly string[] = ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded'];
  if (raw !== undefined && own.includes(raw) && finishReasonFromAnthropic(raw) === reason) return raw as AnthropicStopReason;
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool-calls':
      return 'tool_use';
    case 'content-filter':
      return 'refusal';
    default:
      return stopSequence !== undefined ? 'stop_sequence' : 'end_turn';
  }
}

/** https://docs.anthropic.com/en/api/errors */
export function errorKindFromAnthropic(type: string, message: string): ErrorKind {
  switch (type) {
    case 'authentication_error':
    case 'permission_error':
    case 'billing_error':
      return 'auth';
    case 'rate_limit_error':
      return 'rate_limited';
    case 'overloaded_error':
      return 'overloaded';
    case 'invalid_request_error':
    case 'not_found_error':
    case 'request_too_large':
      return /prompt is too long|context window|too many tokens/i.test(message) ? 'context_length' : 'bad_request';
    default:
      return 'upstream_error';
  }
}

export function anthropicErrorType(kind: ErrorKind): AnthropicErrorType {
  switch (kind) {
    case 'auth':
      return 'authentication_error';
    case 'rate_limited':
      return 'rate_limit_error';
    case 'overloaded':
      return 'overloaded_error';
    case 'bad_request':
    case 'context_length':
    case 'content_filter':
      return 'invalid_request_error';
    case 'upstream_error':
      return 'api_error';
  }
}
