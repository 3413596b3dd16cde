import type { CanonicalUsage } from '../../adapter.js';
import { isRecord, tokenCount } from '../../error-helpers.js';
import type { FinishReason } from '../../canonical.js';
import type { OpenAIFinishReason, OpenAIUsage } from './openai-wire.js';

/**
 * OpenAI's usage object -> canonical usage. prompt_tokens includes cached (and cache-written)
 * tokens; completion_tokens includes reasoning tokens. Audio and prediction counts go to `extra`.
 * https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 */
export function canonicalUsageFromOpenAI(u: unknown): CanonicalUsage | undefined {
  if (!isRecord(u) || (typeof u.prompt_tokens !== 'number' && typeof u.completion_tokens !== 'number')) return undefined;
  const promptDetails = isRecord(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const completionDetails = isRecord(u.completion_tokens_details) ? u.completion_tokens_details : {};
  const input = tokenCount(u.prompt_tokens);
  const cacheRead = Math.min(tokenCount(promptDetails.cached_tokens), input);
  const cacheWrite = Math.min(tokenCount(promptDetails.cache_write_tokens), input - cacheRead);
  const output = tokenCount(u.completion_tokens);
  const reasoning = Math.min(tokenCount(completionDetails.reasoning_tokens), output);
  const extra: Record<string, number> = {};
  const put = (key: string, v: unknown): void => {
    if (tokenCount(v) > 0) extra[key] = tokenCount(v);
  };
  put('input_audio', promptDetails.audio_tokens);
  put('output_audio', completionDetails.audio_tokens);
  put('accepted_prediction', completionDetails.accepted_prediction_tokens);
  put('rejected_prediction', completionDetails.rejected_prediction_tokens);
  return {
    input: { total: input, noCache: input - cacheRead - cacheWrite, cacheRead, cacheWrite },
    output: { total: output, text: output - reasoning, reasoning },
    extra,
  };
}

export function openAIUsageFromCanonical(u: CanonicalUsage): OpenAIUsage {
  const usage: OpenAIUsage = { prompt_tokens: u.input.total, completion_tokens: u.output.total, total_tokens: u.input.total + u.output.total };
  if (u.input.cacheRead > 0 || u.input.cacheWrite > 0) {
    usage.prompt_tokens_details = { cached_tokens: u.input.cacheRead, ...(u.input.cacheWrite > 0 ? { cache_write_tokens: u.input.cacheWrite } : {}) };
  }
  if (u.output.reasoning > 0) usage.completion_tokens_details = { reasoning_tokens: u.output.reasoning };
  return usage;
}

export function finishReasonFromOpenAI(raw: string): FinishReason {
  switch (raw) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case 'content_filter':
      return 'content-filter';
    default:
      return 'other';
  }
}

export function openAIFinishReason(reason: FinishReason): OpenAIFinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'tool-calls':
      return 'tool_calls';
    case 'content-filter':
      return 'content_filter';
    default:
      // OpenAI's enum has no "error" or "other": a choice that ended is "stop".
      return 'stop';
  }
}
