import { randomUUID } from 'node:crypto';
import {
  adapterError,
  bodySnippet,
  createSseStreamDecoder,
  emptyUsage,
  isRecord,
  jsonOrUndefined,
  tokenCount,
  type AssistantContentPart,
  type CanonicalStreamPart,
  type CanonicalUsage,
  type ChatChoice,
  type ChatResponse,
  type Decoded,
  type EmbeddingResponse,
  type FinishReason,
  type SseEventReader,
  type SseMessage,
  type StreamDecoder,
  type StreamDecoderOptions,
} from '#libs/adapter-sdk';
import { geminiErrorFromBody } from './gemini-errors.js';
import { SIGNATURE_MARK } from './gemini-request.js';

/**
 * Gemini's GenerateContentResponse (https://ai.google.dev/api/generate-content#generatecontentresponse),
 * whole or as the SSE stream of :streamGenerateContent?alt=sse, each event one partial response.
 */

/** https://ai.google.dev/api/generate-content#FinishReason */
const CONTENT_FILTER_REASONS = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION', 'LANGUAGE']);

/** A candidate's finishReason -> canonical; STOP after a function call is Gemini's way of saying "tool calls". */
export function finishReasonFromGemini(raw: string, hasToolCalls: boolean): FinishReason {
  if (raw === 'STOP') return hasToolCalls ? 'tool-calls' : 'stop';
  if (raw === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER_REASONS.has(raw)) return 'content-filter';
  if (raw === 'MALFORMED_FUNCTION_CALL' || raw === 'UNEXPECTED_TOOL_CALL') return 'error';
  return 'other';
}

/**
 * usageMetadata -> canonical (https://ai.google.dev/api/generate-content#UsageMetadata):
 * promptTokenCount includes cachedContentTokenCount; candidatesTokenCount excludes thoughtsTokenCount,
 * so output = candidates + thoughts. Tool-use prompt tokens (grounding) are input too.
 */
export function canonicalUsageFromGemini(u: unknown): CanonicalUsage | undefined {
  if (!isRecord(u)) return undefined;
  const prompt = tokenCount(u.promptTokenCount);
  const toolUse = tokenCount(u.toolUsePromptTokenCount);
  const cacheRead = Math.min(tokenCount(u.cachedContentTokenCount), prompt);
  const candidates = tokenCount(u.candidatesTokenCount);
  const thoughts = tokenCount(u.thoughtsTokenCount);
  const usage = emptyUsage();
  usage.input = { total: prompt + toolUse, noCache: prompt + toolUse - cacheRead, cacheRead, cacheWrite: 0 };
  usage.output = { total: candidates + thoughts, text: candidates, reasoning: thoughts };
  if (toolUse > 0) usage.extra.toolUsePromptTokens = toolUse;
  return usage;
}

/**
 * A tool call's id for the client. Gemini names no call (older models) or gives an id; a thinking
 * model signs its function call (thoughtSignature), and Gemini 3 refuses the next turn unless that
 * signature comes back with the call (https://ai.google.dev/gemini-api/docs/thought-signatures). No
 * client format has a place for it but the call's id, which every client sends back as it got it: so
 * the signature rides in the id, base64url (ids stay [A-Za-z0-9_-], as Anthropic's tool_use ids must).
 */
function callId(fc: Record<string, unknown>, thoughtSignature: unknown): string {
  const id = typeof fc.id === 'string' && /^[A-Za-z0-9_-]+$/.test(fc.id) ? fc.id : `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  return typeof thoughtSignature === 'string' && thoughtSignature !== '' ? `${id}${SIGNATURE_MARK}${Buffer.from(thoughtSignature, 'base64').toString('base64url')}` : id;
}

const malformed = (why: string): { error: ReturnType<typeof adapterError> } => ({ error: adapterError('upstream_error', `the upstream answered a malformed Gemini response: ${why}`) });

/** A blocked prompt answers 200 with promptFeedback.blockReason and no candidate. */
function blockReason(b: Record<string, unknown>): string | undefined {
  return isRecord(b.promptFeedback) && typeof b.promptFeedback.blockReason === 'string' ? b.promptFeedback.blockReason : undefined;
}

/** A whole GenerateContentResponse -> canonical. Never throws. */
export function chatResponseFromGemini(body: Uint8Array): Decoded<ChatResponse> {
  const b = jsonOrUndefined(body);
  if (!isRecord(b)) return malformed(`not a JSON object: ${bodySnippet(body)}`);
  const candidates = b.candidates ?? [];
  if (!Array.isArray(candidates)) return malformed('candidates is not an array');
  const choices: ChatChoice[] = [];
  for (const [i, c] of candidates.entries()) {
    if (!isRecord(c)) return malformed(`candidates[${i}] is not an object`);
    const content: AssistantContentPart[] = [];
    const parts = isRecord(c.content) && Array.isArray(c.content.parts) ? c.content.parts : [];
    for (const p of parts) {
      if (!isRecord(p)) continue;
      if (typeof p.text === 'string') content.push(p.thought === true ? { type: 'reasoning', text: p.text } : { type: 'text', text: p.text });
      else if (isRecord(p.functionCall) && typeof p.functionCall.name === 'string') {
        content.push({ type: 'tool-call', toolCallId: callId(p.functionCall, p.thoughtSignature), toolName: p.functionCall.name, input: JSON.stringify(p.functionCall.args ?? {}) });
      }
    }
    const raw = typeof c.finishReason === 'string' ? c.finishReason : undefined;
    const choice: ChatChoice = { index: typeof c.index === 'number' ? c.index : i, content, finishReason: raw ? finishReasonFromGemini(raw, content.some((p) => p.type === 'tool-call')) : 'other' };
    if (raw) choice.rawFinishReason = raw;
    choices.push(choice);
  }
  const blocked = blockReason(b);
  if (choices.length === 0 && blocked) choices.push({ index: 0, content: [], finishReason: 'content-filter', rawFinishReason: blocked });
  if (choices.length === 0) return malformed('no candidates and no promptFeedback.blockReason');
  const res: ChatResponse = { choices };
  if (typeof b.responseId === 'string') res.id = b.responseId;
  if (typeof b.modelVersion === 'string') res.model = b.modelVersion;
  const usage = canonicalUsageFromGemini(b.usageMetadata);
  if (usage) res.usage = usage;
  return { value: res };
}

/**
 * Reads the SSE stream of :streamGenerateContent?alt=sse. Gemini sends no terminator event: the stream
 * is complete once every candidate seen has a finishReason (a blocked prompt: promptFeedback). An
 * `{"error": …}` event (what Google sends when it fails mid-stream) becomes an error part.
 */
class GeminiStreamReader implements SseEventReader {
  readonly terminator = 'a finishReason';
  private metadataSent = false;
  /** Per candidate: tool calls started so far (their next index), and whether it finished. */
  private readonly candidates = new Map<number, { tools: number; finished: boolean }>();

  get terminated(): boolean {
    if (this.candidates.size === 0) return false;
    for (const c of this.candidates.values()) if (!c.finished) return false;
    return true;
  }

  read(message: SseMessage): CanonicalStreamPart[] {
    if (message.data === undefined || message.data.trim() === '') return [];
    const e: unknown = JSON.parse(message.data);
    const event = Array.isArray(e) && e.length === 1 ? e[0] : e;
    if (!isRecord(event)) throw new Error('the event is not a JSON object');
    if (isRecord(event.error)) return [{ type: 'error', error: geminiErrorFromBody(event, 200, {}) }];
    const out: CanonicalStreamPart[] = [];
    if (!this.metadataSent && (typeof event.responseId === 'string' || typeof event.modelVersion === 'string')) {
      this.metadataSent = true;
      const meta: CanonicalStreamPart = { type: 'response-metadata' };
      if (typeof event.responseId === 'string') meta.id = event.responseId;
      if (typeof event.modelVersion === 'string') meta.model = event.modelVersion;
      out.push(meta);
    }
    const candidates = event.candidates ?? [];
    if (!Array.isArray(candidates)) throw new Error('candidates is not an array');
    for (const [i, c] of candidates.entries()) {
      if (!isRecord(c)) throw new Error(`candidates[${i}] is not an object`);
      const choice = typeof c.index === 'number' ? c.index : i;
      let state = this.candidates.get(choice);
      if (!state) this.candidates.set(choice, (state = { tools: 0, finished: false }));
      const parts = isRecord(c.content) && Array.isArray(c.content.parts) ? c.content.parts : [];
      for (const p of parts) {
        if (!isRecord(p)) continue;
        if (typeof p.text === 'string') {
          if (p.text !== '') out.push(p.thought === true ? { type: 'reasoning-delta', choice, text: p.text } : { type: 'text-delta', choice, text: p.text });
        } else if (isRecord(p.functionCall) && typeof p.functionCall.name === 'string') {
          // Gemini streams a function call whole, in one part.
          const index = state.tools++;
          out.push({ type: 'tool-call-start', choice, index, id: callId(p.functionCall, p.thoughtSignature), name: p.functionCall.name });
          out.push({ type: 'tool-call-delta', choice, index, inputDelta: JSON.stringify(p.functionCall.args ?? {}) });
        }
      }
      if (typeof c.finishReason === 'string') {
        state.finished = true;
        out.push({ type: 'finish', choice, reason: finishReasonFromGemini(c.finishReason, state.tools > 0), rawReason: c.finishReason });
      }
    }
    const blocked = blockReason(event);
    if (blocked && candidates.length === 0) {
      this.candidates.set(0, { tools: 0, finished: true });
      out.push({ type: 'finish', choice: 0, reason: 'content-filter', rawReason: blocked });
    }
    const usage = canonicalUsageFromGemini(event.usageMetadata);
    if (usage) out.push({ type: 'usage', usage });
    return out;
  }
}

/** A decoder for :streamGenerateContent?alt=sse. Every event carries usage, so none is skipped in metering-only mode. */
export function createGeminiStreamDecoder(options?: StreamDecoderOptions): StreamDecoder {
  return createSseStreamDecoder(new GeminiStreamReader(), options);
}

/** batchEmbedContents' `{embeddings: [{values}]}` (AI Studio reports no token counts for embeddings). */
export function embeddingsFromGeminiBatch(body: Uint8Array): Decoded<EmbeddingResponse> {
  const b = jsonOrUndefined(body);
  if (!isRecord(b) || !Array.isArray(b.embeddings)) return malformed(`no embeddings: ${bodySnippet(body)}`);
  const embeddings: number[][] = [];
  for (const [i, e] of b.embeddings.entries()) {
    if (!isRecord(e) || !Array.isArray(e.values) || !e.values.every((v) => typeof v === 'number')) return malformed(`embeddings[${i}].values is not an array of numbers`);
    embeddings.push(e.values as number[]);
  }
  const res: EmbeddingResponse = { embeddings };
  const usage = canonicalUsageFromGemini(b.usageMetadata);
  if (usage) res.usage = usage;
  return { value: res };
}

/** Vertex :predict's `{predictions: [{embeddings: {values, statistics: {token_count}}}]}`: input tokens are the sum of token_count. */
export function embeddingsFromVertexPredict(body: Uint8Array): Decoded<EmbeddingResponse> {
  const b = jsonOrUndefined(body);
  if (!isRecord(b) || !Array.isArray(b.predictions)) return malformed(`no predictions: ${bodySnippet(body)}`);
  const embeddings: number[][] = [];
  let tokens = 0;
  for (const [i, p] of b.predictions.entries()) {
    const e = isRecord(p) && isRecord(p.embeddings) ? p.embeddings : undefined;
    if (!e || !Array.isArray(e.values) || !e.values.every((v) => typeof v === 'number')) return malformed(`predictions[${i}].embeddings.values is not an array of numbers`);
    embeddings.push(e.values as number[]);
    if (isRecord(e.statistics)) tokens += tokenCount(e.statistics.token_count);
  }
  const usage = emptyUsage();
  usage.input = { total: tokens, noCache: tokens, cacheRead: 0, cacheWrite: 0 };
  const res: EmbeddingResponse = { embeddings, usage };
  return { value: res };
}
