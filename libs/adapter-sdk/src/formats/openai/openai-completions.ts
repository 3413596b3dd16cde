import { nextOpenAIMeteringMarker, OPENAI_METERING_EVENT } from './openai-chat-stream.js';
import type { CallWarning, Decoded, StreamDecoder, StreamDecoderOptions } from '../../adapter-v2.js';
import type { CanonicalStreamPart, CompletionRequest, CompletionResponse, FinishReason } from '../../canonical.js';
import { adapterError, bodySnippet, isRecord, jsonOrUndefined } from '../../error-helpers.js';
import { createSseStreamDecoder, type SseEventReader, type SseMessage } from '../../sse-stream-decoder.js';
import { decodeClientRequest, InvalidClientRequest, WarningSink, type ClientRequestDecoded } from '../client-request.js';
import type { OutgoingSseEvent } from '../sse-format.js';
import type { OpenAIResponseContext } from './openai-chat-response.js';
import { errorKindFromOpenAI, openAIErrorBody, type OpenAIChunkContext } from './openai-chat-stream.js';
import { canonicalUsageFromOpenAI, finishReasonFromOpenAI, openAIUsageFromCanonical } from './openai-usage.js';
import type { OpenAIErrorBody, OpenAIUsage } from './openai-wire.js';

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
    return this.metadataSent && !OPENAI_METERING_EVENT.test(latin1);
  }

  nextMeteringEvent(text: string, from: number): number {
    return this.metadataSent ? nextOpenAIMeteringMarker(text, from) : from;
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

const COMPLETION_MAPPED = new Set(['model', 'prompt', 'max_tokens', 'temperature', 'top_p', 'n', 'stop', 'seed', 'presence_penalty', 'frequency_penalty', 'user', 'stream', 'stream_options']);

/** A client's /v1/completions body -> canonical. Token-array prompts have no canonical form (they pass through only). */
export function completionRequestFromOpenAI(body: unknown): ClientRequestDecoded<CompletionRequest> {
  return decodeClientRequest(() => {
    if (!isRecord(body)) throw new InvalidClientRequest('body', 'The request body must be a JSON object.');
    if (typeof body.model !== 'string') throw new InvalidClientRequest('model', 'model must be a string.');
    const p = body.prompt;
    const prompt = typeof p === 'string' ? p : Array.isArray(p) && p.every((x) => typeof x === 'string') ? (p as string[]) : undefined;
    if (prompt === undefined) throw new InvalidClientRequest('prompt', 'prompt must be a string or an array of strings here (token arrays reach only OpenAI-format upstreams).');
    const num = (v: unknown, param: string): number | undefined => {
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidClientRequest(param, `${param} must be a number.`);
      return v;
    };
    const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
    const req: CompletionRequest = { model: body.model, prompt, stream: body.stream === true, includeUsage: streamOptions.include_usage === true };
    const set = <K extends keyof CompletionRequest>(key: K, v: CompletionRequest[K] | undefined): void => {
      if (v !== undefined) req[key] = v;
    };
    set('maxOutputTokens', num(body.max_tokens, 'max_tokens'));
    set('temperature', num(body.temperature, 'temperature'));
    set('topP', num(body.top_p, 'top_p'));
    set('choices', num(body.n, 'n'));
    set('seed', num(body.seed, 'seed'));
    set('presencePenalty', num(body.presence_penalty, 'presence_penalty'));
    set('frequencyPenalty', num(body.frequency_penalty, 'frequency_penalty'));
    if (typeof body.user === 'string') req.user = body.user;
    if (typeof body.stop === 'string') req.stopSequences = [body.stop];
    else if (Array.isArray(body.stop)) req.stopSequences = body.stop.filter((s): s is string => typeof s === 'string');
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) if (!COMPLETION_MAPPED.has(k)) rest[k] = v;
    if (Object.keys(rest).length > 0) req.providerOptions = { openai: rest };
    return req;
  });
}

export interface OpenAICompletion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: Array<{ index: number; text: string; logprobs: null; finish_reason: 'stop' | 'length' | 'content_filter' | null }>;
  usage?: OpenAIUsage;
}

function completionFinish(reason: FinishReason): 'stop' | 'length' | 'content_filter' {
  return reason === 'length' ? 'length' : reason === 'content-filter' ? 'content_filter' : 'stop';
}

/** Canonical -> a text_completion body for a client. */
export function openAICompletionFromCanonical(res: CompletionResponse, ctx: OpenAIResponseContext): OpenAICompletion {
  const out: OpenAICompletion = {
    id: res.id ?? ctx.fallbackId,
    object: 'text_completion',
    created: res.created ?? ctx.now,
    model: res.model ?? ctx.model,
    choices: res.choices.map((c) => ({ index: c.index, text: c.text, logprobs: null, finish_reason: completionFinish(c.finishReason) })),
  };
  if (res.usage) out.usage = openAIUsageFromCanonical(res.usage);
  return out;
}

/**
 * Canonical parts -> text_completion chunks for a client, as OpenAI streams them: finish_reason null
 * until a choice ends, the usage chunk when asked for, then `[DONE]`; an error object ends a failed stream.
 */
export class OpenAICompletionChunkEncoder {
  private id: string;
  private model: string;
  private created: number;
  private usage: OpenAIUsage | undefined;
  private closed = false;

  constructor(private readonly ctx: OpenAIChunkContext) {
    this.id = ctx.fallbackId;
    this.model = ctx.model;
    this.created = ctx.now;
  }

  push(part: CanonicalStreamPart): OutgoingSseEvent<OpenAICompletion | OpenAIErrorBody>[] {
    if (this.closed) return [];
    switch (part.type) {
      case 'response-metadata':
        if (part.id) this.id = part.id;
        if (part.model) this.model = part.model;
        if (part.created !== undefined) this.created = part.created;
        return [];
      case 'text-delta':
        return [this.chunk([{ index: part.choice, text: part.text, logprobs: null, finish_reason: null }])];
      case 'finish':
        return [this.chunk([{ index: part.choice, text: '', logprobs: null, finish_reason: completionFinish(part.reason) }])];
      case 'usage':
        this.usage = openAIUsageFromCanonical(part.usage);
        return [];
      case 'error':
        this.closed = true;
        return [{ data: openAIErrorBody(part.error) }];
      default:
        return [];
    }
  }

  end(): OutgoingSseEvent<OpenAICompletion | OpenAIErrorBody>[] {
    if (this.closed) return [];
    this.closed = true;
    const out: OutgoingSseEvent<OpenAICompletion>[] = [];
    if (this.ctx.includeUsage && this.usage) out.push({ data: { ...this.body([]), usage: this.usage } });
    out.push({ data: '[DONE]' });
    return out;
  }

  private chunk(choices: OpenAICompletion['choices']): OutgoingSseEvent<OpenAICompletion> {
    return { data: this.body(choices) };
  }

  private body(choices: OpenAICompletion['choices']): OpenAICompletion {
    return { id: this.id, object: 'text_completion', created: this.created, model: this.model, choices };
  }
}
