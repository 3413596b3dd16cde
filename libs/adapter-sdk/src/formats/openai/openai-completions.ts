import type { CallWarning, Decoded, StreamDecoder, StreamDecoderOptions } from '../../adapter-v2.js';
import type { CanonicalStreamPart, CompletionRequest, CompletionResponse } from '../../canonical.js';
import { adapterError, bodySnippet, isRecord, jsonOrUndefined } from '../../error-helpers.js';
import { createSseStreamDecoder, type SseEventReader, type SseMessage } from '../../sse-stream-decoder.js';
import { WarningSink } from '../client-request.js';
import { errorKindFromOpenAI } from './openai-chat-stream.js';
import { canonicalUsageFromOpenAI, finishReasonFromOpenAI } from './openai-usage.js';

/**
 * OpenAI's legacy Completions API (https://platform.openai.com/docs/api-reference/completions),
 * which vLLM and others still serve for base models.
 */
export function openAICompletionRequestFromCanonical(req: CompletionRequest, options: { model: string }): { body: Record<string, unknown>; warnings: CallWarning[] } {
  const sink = new WarningSink();
  sink.foreignOptions(req.providerOptions, 'openai');
  const body: Record<string, unknown> = { ...(req.providerOptions?.openai ?? {}), model: options.model, prompt: req.prompt };
  if (req.maxOutputTokens !== undefined) body.max_tokens = req.maxOutputTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.topK !== undefined) sink.unsupported('top_k');
  if (req.stopSequences !== undefined) body.stop = req.stopSequences;
  if (req.seed !== undefined) body.seed = req.seed;
  if (req.presencePenalty !== undefined) body.presence_penalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) body.frequency_penalty = req.frequencyPenalty;
  if (req.choices !== undefined) body.n = req.choices;
  if (req.user !== undefined) body.user = req.user;
  if (req.stream) {
    body.stream = true;
    body.stream_options = { ...(isRecord(body.stream_options) ? body.stream_options : {}), include_usage: true };
  } else {
    delete body.stream;
    delete body.stream_options;
  }
  return { body, warnings: sink.warnings };
}

export function completionResponseFromOpenAI(body: Uint8Array): Decoded<CompletionResponse> {
  const b = jsonOrUndefined(body);
  if (!isRecord(b) || !Array.isArray(b.choices)) return { error: adapterError('upstream_error', `the upstream answered a malformed completion: ${bodySnippet(body)}`) };
  const res: CompletionResponse = { choices: [] };
  for (const [i, c] of b.choices.entries()) {
    if (!isRecord(c) || typeof c.text !== 'string') return { error: adapterError('upstream_error', `the upstream answered a malformed completion: choices[${i}] has no text`) };
    const raw = typeof c.finish_reason === 'string' ? c.finish_reason : undefined;
    res.choices.push({ index: typeof c.index === 'number' ? c.index : i, text: c.text, finishReason: raw ? finishReasonFromOpenAI(raw) : 'other', ...(raw ? { rawFinishReason: raw } : {}) });
  }
  if (typeof b.id === 'string') res.id = b.id;
  if (typeof b.model === 'string') res.model = b.model;
  if (typeof b.created === 'number') res.created = b.created;
  const usage = canonicalUsageFromOpenAI(b.usage);
  if (usage) res.usage = usage;
  return { value: res };
}

class OpenAICompletionStreamReader implements SseEventReader {
  terminated = false;
  readonly terminator = '[DONE]';
  private metadataSent = false;

  skipForMetering(latin1: string): boolean {
    return this.metadataSent && !latin1.includes('[DONE]') && !latin1.includes('"error"') && !/"usage":\s*\{/.test(latin1) && !/"finish_reason":\s*"/.test(latin1);
  }

  read(message: SseMessage): CanonicalStreamPart[] {
    if (message.data === undefined) return [];
    if (message.data.trim() === '[DONE]') {
      this.terminated = true;
      return [];
    }
    const chunk: unknown = JSON.parse(message.data);
    if (!isRecord(chunk)) throw new Error('the event is not a JSON object');
    if (isRecord(chunk.error)) {
      const e = chunk.error;
      return [{ type: 'error', error: adapterError(errorKindFromOpenAI(e), typeof e.message === 'string' ? e.message : 'the upstream reported an error in the stream') }];
    }
    const parts: CanonicalStreamPart[] = [];
    if (!this.metadataSent && (typeof chunk.id === 'string' || typeof chunk.model === 'string')) {
      this.metadataSent = true;
      parts.push({ type: 'response-metadata', ...(typeof chunk.id === 'string' ? { id: chunk.id } : {}), ...(typeof chunk.model === 'string' ? { model: chunk.model } : {}) });
    }
    if (chunk.choices !== undefined && chunk.choices !== null) {
      if (!Array.isArray(chunk.choices)) throw new Error('choices is not an array');
      for (const c of chunk.choices) {
        if (!isRecord(c)) throw new Error('a choice is not an object');
        const choice = typeof c.index === 'number' ? c.index : 0;
        if (c.text !== undefined && c.text !== null && typeof c.text !== 'string') throw new Error('choices[].text is not a string');
        if (typeof c.text === 'string' && c.text.length > 0) parts.push({ type: 'text-delta', choice, text: c.text });
        if (typeof c.finish_reason === 'string') parts.push({ type: 'finish', choice, reason: finishReasonFromOpenAI(c.finish_reason), rawReason: c.finish_reason });
      }
    }
    if (chunk.usage !== undefined && chunk.usage !== null) {
      const usage = canonicalUsageFromOpenAI(chunk.usage);
      if (!usage) throw new Error('usage is not a usage object');
      parts.push({ type: 'usage', usage });
    }
    return parts;
  }
}

export function createOpenAICompletionStreamDecoder(options?: StreamDecoderOptions): StreamDecoder {
  return createSseStreamDecoder(new OpenAICompletionStreamReader(), options);
}
