import type { Decoded } from '../../adapter-v2.js';
import type { AssistantContentPart, ChatChoice, ChatResponse } from '../../canonical.js';
import { adapterError, bodySnippet, isRecord, jsonOrUndefined } from '../../error-helpers.js';
import { anthropicStopReason, anthropicUsageFromCanonical, canonicalUsageFromAnthropic, finishReasonFromAnthropic } from './anthropic-usage.js';
import type { AnthropicContentBlock, AnthropicMessage } from './anthropic-wire.js';

const malformed = (why: string) => ({ error: adapterError('upstream_error', `the upstream answered a malformed message: ${why}`) });

/** An upstream's Messages API answer (a `message` object) -> canonical. Never throws. */
export function chatResponseFromAnthropic(body: Uint8Array): Decoded<ChatResponse> {
  const b = jsonOrUndefined(body);
  if (!isRecord(b)) return malformed(`not a JSON object: ${bodySnippet(body)}`);
  if (b.type !== 'message' || !Array.isArray(b.content)) return malformed(`type is ${JSON.stringify(b.type)}, content ${Array.isArray(b.content) ? 'present' : 'missing'}`);
  const content: AssistantContentPart[] = [];
  for (const [i, block] of b.content.entries()) {
    if (!isRecord(block)) return malformed(`content[${i}] is not an object`);
    switch (block.type) {
      case 'text':
        if (typeof block.text !== 'string') return malformed(`content[${i}].text is not a string`);
        content.push({ type: 'text', text: block.text });
        break;
      case 'thinking':
        if (typeof block.thinking !== 'string') return malformed(`content[${i}].thinking is not a string`);
        content.push(typeof block.signature === 'string' ? { type: 'reasoning', text: block.thinking, signature: block.signature } : { type: 'reasoning', text: block.thinking });
        break;
      case 'redacted_thinking':
        if (typeof block.data === 'string') content.push({ type: 'redacted-reasoning', data: block.data });
        break;
      case 'tool_use':
        if (typeof block.id !== 'string' || typeof block.name !== 'string') return malformed(`content[${i}] is a tool_use without id or name`);
        content.push({ type: 'tool-call', toolCallId: block.id, toolName: block.name, input: JSON.stringify(block.input ?? {}) });
        break;
      default:
      // Server-tool blocks (web search results...) have no canonical form; the text around them does.
    }
  }
  const raw = typeof b.stop_reason === 'string' ? b.stop_reason : undefined;
  const choice: ChatChoice = { index: 0, content, finishReason: raw ? finishReasonFromAnthropic(raw) : 'other' };
  if (raw) choice.rawFinishReason = raw;
  if (typeof b.stop_sequence === 'string') choice.stopSequence = b.stop_sequence;
  const res: ChatResponse = { choices: [choice] };
  if (typeof b.id === 'string') res.id = b.id;
  if (typeof b.model === 'string') res.model = b.model;
  const usage = canonicalUsageFromAnthropic(b.usage);
  if (usage) res.usage = usage;
  return { value: res };
}

export interface AnthropicResponseContext {
  /** Used when the provider gave no id. */
  fallbackId: string;
  model: string;
}

export function anthropicContentFromCanonical(parts: AssistantContentPart[]): AnthropicContentBlock[] {
  return parts.map((p): AnthropicContentBlock => {
    switch (p.type) {
      case 'text':
        return { type: 'text', text: p.text, citations: null };
      case 'reasoning':
        return { type: 'thinking', thinking: p.text, signature: p.signature ?? '' };
      case 'redacted-reasoning':
        return { type: 'redacted_thinking', data: p.data };
      case 'tool-call': {
        let input: unknown = {};
        try {
          input = p.input.trim() === '' ? {} : JSON.parse(p.input);
        } catch {
          // A model's arguments that are not JSON: the client sees them as one string field rather than losing them.
          input = { _raw_arguments: p.input };
        }
        return { type: 'tool_use', id: p.toolCallId, name: p.toolName, input, caller: { type: 'direct' } };
      }
    }
  });
}

/** Canonical -> an Anthropic `message` for a client. Only the first choice: the format has one. */
export function anthropicMessageFromCanonical(res: ChatResponse, ctx: AnthropicResponseContext): AnthropicMessage {
  const choice = res.choices[0];
  return {
    id: res.id ?? ctx.fallbackId,
    type: 'message',
    role: 'assistant',
    model: res.model ?? ctx.model,
    content: choice ? anthropicContentFromCanonical(choice.content) : [],
    stop_reason: choice ? anthropicStopReason(choice.finishReason, choice.rawFinishReason, choice.stopSequence) : null,
    stop_sequence: choice?.stopSequence ?? null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: res.usage
      ? anthropicUsageFromCanonical(res.usage)
      : anthropicUsageFromCanonical({ input: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 }, output: { total: 0, text: 0, reasoning: 0 }, extra: {} }),
  };
}
