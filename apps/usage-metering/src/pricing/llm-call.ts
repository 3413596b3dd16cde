import {
  ERROR_TYPE_ATTRIBUTE,
  GatewayAttr,
  hasUsageAttribute,
  isGatewayCallSpan,
  isModelCallSpan,
  isTextAttribute,
  LlmSpanAttr,
  MODEL_ATTRIBUTE_ALIASES,
  MODEL_CALL_OPERATIONS,
  USAGE_ATTRIBUTE_ALIASES,
  type SpanAttributeValue,
  type SpanRecord,
  type UsageStatus,
} from '#libs/contracts';
import type { TokenUsage } from './token-usage.js';

/**
 * The operations that are one call to a model, and so are priced. Agent, workflow and tool spans
 * (invoke_agent, execute_tool, ...) may repeat their children's usage; pricing them would count the
 * same tokens twice.
 */
export const PRICED_OPERATIONS: ReadonlySet<string> = MODEL_CALL_OPERATIONS;

/** What OpenTelemetry's error.type falls back to when a failure has no kind of its own. */
export const OTHER_ERROR_TYPE = '_OTHER';

const USAGE_FIELDS = Object.entries(USAGE_ATTRIBUTE_ALIASES satisfies Record<keyof TokenUsage, readonly string[]>) as [keyof TokenUsage, readonly string[]][];

/** Langfuse's usage_details keys (a JSON object attribute) for each field. */
const LANGFUSE_USAGE_KEYS: Partial<Record<keyof TokenUsage, string>> = { input: 'input', output: 'output', cacheRead: 'cache_read_input_tokens', cacheWrite: 'cache_creation_input_tokens', reasoning: 'reasoning_tokens' };

/** A span that is one LLM call, read into what pricing needs. */
export interface LlmCall {
  /** gen_ai.response.model, else gen_ai.request.model; '' when the span names neither. */
  model: string;
  startedAt: Date;
  /** Absent and invalid attributes count as 0 here; invalidAttributes says which were invalid. All 0 when usageStatus is 'missing'. */
  usage: TokenUsage;
  /** Usage attributes present but not non-negative integers: the call cannot be priced. */
  invalidAttributes: string[];
  /** 'missing': a gateway call without any usage attribute, recorded without a cost. */
  usageStatus: UsageStatus;
  /** The span's error.type when it failed (OTHER_ERROR_TYPE for an error status without one); null when it did not. */
  errorType: string | null;
  /**
   * A call without any token count but with its text (the prompt, the answer): its usage is to be
   * estimated from these with the model's tokenizer, and the record marked estimated. Null otherwise.
   */
  estimateFrom: CallTexts | null;
}

/** A call's prompt and answer texts, as the span carries them. */
export interface CallTexts {
  input: string[];
  output: string[];
  /** The least the output can be (a gateway stream cut short: one token per content event that reached the client). */
  minOutputTokens: bigint;
}

/** A span whose required fields are unreadable (not a usage problem: the producer is broken). */
export class MalformedSpanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedSpanError';
  }
}

/**
 * Reads a span as an LLM call, or null when it is not one to record: it is not a model call
 * (isModelCallSpan: OpenTelemetry's gen_ai.operation.name, or OpenInference's, Traceloop's or
 * Langfuse's kind of span), or it carries neither a token count (under any convention,
 * USAGE_ATTRIBUTE_ALIASES) nor the call's text, and is not a gateway call. A gateway call
 * (isGatewayCallSpan) is always read, so no call the gateway answered goes unrecorded: without
 * usage its status is 'missing' (or its usage is estimated from the text the gateway put on it);
 * with usage, 'partial' when the gateway says the stream was cut short, else 'reported'. The usage
 * attributes decide, not the status the span claims.
 * @throws MalformedSpanError when the start time is not epoch nanoseconds
 */
export function readLlmCall(span: SpanRecord): LlmCall | null {
  const attributes = span.attributes ?? {};
  const gatewayCall = isGatewayCallSpan(span);
  if (!gatewayCall && !isModelCallSpan(attributes)) return null;
  const hasUsage = hasUsageAttribute(attributes);
  const texts = hasUsage ? null : textsOf(attributes, gatewayCall);
  if (!hasUsage && !gatewayCall && texts === null) return null;

  const usage: TokenUsage = { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n, reasoning: 0n };
  const invalidAttributes: string[] = [];
  const langfuse = langfuseUsage(attributes);
  for (const [field, names] of USAGE_FIELDS) {
    const name = names.find((n) => n in attributes);
    if (name === undefined) {
      const fromLangfuse = langfuse?.[LANGFUSE_USAGE_KEYS[field] ?? ''];
      if (fromLangfuse === undefined) continue;
      const count = tokenCount(fromLangfuse as SpanAttributeValue);
      if (count === null) invalidAttributes.push(`${LlmSpanAttr.langfuseUsage}.${LANGFUSE_USAGE_KEYS[field]}`);
      else usage[field] = count;
      continue;
    }
    const count = tokenCount(attributes[name]);
    if (count === null) invalidAttributes.push(name);
    else usage[field] = count;
  }
  // Traceloop may give the total and the prompt only: the answer is the rest.
  const total = attributes[LlmSpanAttr.traceloopTotalTokens];
  if (total !== undefined && !USAGE_ATTRIBUTE_ALIASES.output.some((n) => n in attributes) && langfuse?.output === undefined) {
    const count = tokenCount(total);
    if (count === null || count < usage.input) invalidAttributes.push(LlmSpanAttr.traceloopTotalTokens);
    else usage.output = count - usage.input;
  }
  const cutShort = gatewayCall && attributes[GatewayAttr.usageStatus] === 'partial';
  const usageStatus: UsageStatus = hasUsage ? (cutShort ? 'partial' : 'reported') : texts === null ? 'missing' : cutShort ? 'partial' : 'reported';
  return { model: modelOf(attributes), startedAt: startOf(span), usage, invalidAttributes, usageStatus, errorType: errorTypeOf(span), estimateFrom: texts };
}

/** The call's prompt and answer texts, or null when it carries neither. */
function textsOf(attributes: Record<string, SpanAttributeValue>, gatewayCall: boolean): CallTexts | null {
  const events = gatewayCall ? attributes[GatewayAttr.streamedContentEvents] : undefined;
  const texts: CallTexts = { input: [], output: [], minOutputTokens: typeof events === 'number' && Number.isSafeInteger(events) && events > 0 ? BigInt(events) : 0n };
  for (const name in attributes) {
    const side = isTextAttribute(name);
    if (side === null) continue;
    const value = attributes[name];
    if (typeof value === 'string') texts[side].push(value);
    else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') texts[side].push(v);
  }
  return texts.input.length > 0 || texts.output.length > 0 || texts.minOutputTokens > 0n ? texts : null;
}

/** Langfuse's usage_details: a JSON object of counts; null when absent or not an object. */
function langfuseUsage(attributes: Record<string, SpanAttributeValue>): Record<string, unknown> | null {
  const text = attributes[LlmSpanAttr.langfuseUsage];
  if (typeof text !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function errorTypeOf(span: SpanRecord): string | null {
  const type = span.attributes?.[ERROR_TYPE_ATTRIBUTE];
  if (typeof type === 'string' && type.length > 0) return type;
  return span.status?.code === 'error' ? OTHER_ERROR_TYPE : null;
}

function modelOf(attributes: Record<string, SpanAttributeValue>): string {
  for (const name of MODEL_ATTRIBUTE_ALIASES) {
    const value = attributes[name];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return '';
}

/** A token count: a non-negative integer number (exactly representable) or integer string. */
function tokenCount(value: SpanAttributeValue | undefined): bigint | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : null;
  if (typeof value === 'string' && /^\d{1,19}$/.test(value)) {
    const n = BigInt(value);
    return n <= 9_223_372_036_854_775_807n ? n : null; // fits the bigint column
  }
  return null;
}

/** Epoch nanoseconds rounded down to the millisecond: a price effective at t ms applies to a span at t ms + any ns. */
function startOf(span: SpanRecord): Date {
  const text = span.startTimeUnixNano;
  if (typeof text !== 'string' || !/^\d{1,22}$/.test(text)) throw new MalformedSpanError(`span ${span.spanId} has no valid startTimeUnixNano: ${JSON.stringify(text)}`);
  // Whole milliseconds are the digits before the last six (exact: a valid date has at most 16 of them).
  const date = new Date(text.length > 6 ? Number(text.slice(0, -6)) : 0);
  if (Number.isNaN(date.getTime())) throw new MalformedSpanError(`span ${span.spanId} starts out of range: ${text}`);
  return date;
}
