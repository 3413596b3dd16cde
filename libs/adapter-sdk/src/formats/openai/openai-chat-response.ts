import type { Decoded } from '../../adapter-v2.js';
import type { AssistantContentPart, ChatChoice, ChatResponse, TextPart } from '../../canonical.js';
import { adapterError, bodySnippet, isRecord, jsonOrUndefined } from '../../error-helpers.js';
import { chatMeteringFromOpenAI } from './openai-chat-metering.js';
import { canonicalUsageFromOpenAI, finishReasonFromOpenAI, openAIFinishReason, openAIUsageFromCanonical } from './openai-usage.js';
import type { OpenAIChatCompletion, OpenAIToolCall } from './openai-wire.js';

const malformed = (why: string) => ({ error: adapterError('upstream_error', `the upstream answered a malformed chat completion: ${why}`) });

/**
 * An upstream's chat.completion body -> canonical. Never throws; a body that is not one is an error.
 * `meteringOnly` (the pass-through path, whose bytes reach the client as they came): id, model, usage
 * and the choices' finish reasons only, the choices' content left empty (chatMeteringFromOpenAI);
 * the body is read whole when that reading is unsure.
 */
export function chatResponseFromOpenAI(body: Uint8Array, options?: { meteringOnly?: boolean }): Decoded<ChatResponse> {
  if (options?.meteringOnly) {
    const value = chatMeteringFromOpenAI(body);
    if (value) return { value };
  }
  const b = jsonOrUndefined(body);
  if (!isRecord(b)) return malformed(`not a JSON object: ${bodySnippet(body)}`);
  if (!Array.isArray(b.choices)) return malformed('choices is missing');
  const choices: ChatChoice[] = [];
  for (const [i, c] of b.choices.entries()) {
    if (!isRecord(c) || !isRecord(c.message)) return malformed(`choices[${i}] has no message`);
    const m = c.message;
    const content: AssistantContentPart[] = [];
    // vLLM, DeepSeek and others put reasoning beside the content; OpenAI itself does not show it.
    const reasoning = typeof m.reasoning_content === 'string' ? m.reasoning_content : typeof m.reasoning === 'string' ? m.reasoning : undefined;
    if (reasoning) content.push({ type: 'reasoning', text: reasoning });
    if (typeof m.content === 'string' && m.content.length > 0) content.push({ type: 'text', text: m.content });
    else if (typeof m.refusal === 'string' && m.refusal.length > 0) content.push({ type: 'text', text: m.refusal });
    if (Array.isArray(m.tool_calls)) {
      for (const [j, t] of m.tool_calls.entries()) {
        if (!isRecord(t) || !isRecord(t.function) || typeof t.function.name !== 'string') return malformed(`choices[${i}].message.tool_calls[${j}] is not a function call`);
        content.push({
          type: 'tool-call',
          toolCallId: typeof t.id === 'string' ? t.id : `call_${i}_${j}`,
          toolName: t.function.name,
          input: typeof t.function.arguments === 'string' ? t.function.arguments : '',
        });
      }
    }
    const raw = typeof c.finish_reason === 'string' ? c.finish_reason : undefined;
    const choice: ChatChoice = { index: typeof c.index === 'number' ? c.index : i, content, finishReason: raw ? finishReasonFromOpenAI(raw) : 'other' };
    if (raw) choice.rawFinishReason = raw;
    choices.push(choice);
  }
  const res: ChatResponse = { choices };
  if (typeof b.id === 'string') res.id = b.id;
  if (typeof b.model === 'string') res.model = b.model;
  if (typeof b.created === 'number') res.created = b.created;
  const usage = canonicalUsageFromOpenAI(b.usage);
  if (usage) res.usage = usage;
  return { value: res };
}

export interface OpenAIResponseContext {
  /** Used when the response has none (a provider that gives no id, or none the client format accepts). */
  fallbackId: string;
  /** Unix seconds, used when the provider gave none. */
  now: number;
  /** The model to name when the provider named none. */
  model: string;
}

/**
 * Canonical -> an OpenAI chat.completion body for a client. Reasoning has no place in this format
 * and is left out.
 */
export function openAIChatResponseFromCanonical(res: ChatResponse, ctx: OpenAIResponseContext): OpenAIChatCompletion {
  const out: OpenAIChatCompletion = {
    id: res.id ?? ctx.fallbackId,
    object: 'chat.completion',
    created: res.created ?? ctx.now,
    model: res.model ?? ctx.model,
    choices: res.choices.map((c) => {
      const text = c.content.filter((p): p is TextPart => p.type === 'text').map((p) => p.text).join('');
      const calls: OpenAIToolCall[] = c.content.flatMap((p) =>
        p.type === 'tool-call' ? [{ id: p.toolCallId, type: 'function' as const, function: { name: p.toolName, arguments: p.input } }] : [],
      );
      const message: OpenAIChatCompletion['choices'][number]['message'] = { role: 'assistant', content: text.length > 0 || calls.length === 0 ? text : null, refusal: null };
      if (calls.length > 0) message.tool_calls = calls;
      return { index: c.index, message, logprobs: null, finish_reason: openAIFinishReason(c.finishReason) };
    }),
  };
  if (res.usage) out.usage = openAIUsageFromCanonical(res.usage);
  return out;
}
