import {
  ERROR_TYPE_ATTRIBUTE,
  GatewayAttr,
  GenAiAttr,
  isGatewayCallSpan,
  MODEL_CALL_OPERATIONS,
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

const USAGE_ATTRIBUTES = {
  input: GenAiAttr.inputTokens,
  output: GenAiAttr.outputTokens,
  cacheRead: GenAiAttr.cacheReadTokens,
  cacheWrite: GenAiAttr.cacheCreationTokens,
  reasoning: GenAiAttr.reasoningTokens,
} as const satisfies Record<keyof TokenUsage, string>;
const USAGE_FIELDS = Object.entries(USAGE_ATTRIBUTES) as [keyof TokenUsage, string][];

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
}

/** A span whose required fields are unreadable (not a usage problem: the producer is broken). */
export class MalformedSpanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedSpanError';
  }
}

/**
 * Reads a span as an LLM call, or null when it is not one to record: its gen_ai.operation.name is
 * not a model call, or it carries no gen_ai.usage.* attribute and is not a gateway call. A gateway
 * call (isGatewayCallSpan) is always read, so no call the gateway answered goes unrecorded: without
 * usage its status is 'missing'; with usage, 'partial' when the gateway says the stream was cut
 * short, else 'reported'. The usage attributes decide, not the status the span claims: usage that is
 * there is priced, and a status of 'reported' or 'partial' without any is recorded as missing.
 * @throws MalformedSpanError when the start time is not epoch nanoseconds
 */
export function readLlmCall(span: SpanRecord): LlmCall | null {
  const attributes = span.attributes ?? {};
  const operation = attributes[GenAiAttr.operationName];
  if (typeof operation !== 'string' || !PRICED_OPERATIONS.has(operation)) return null;
  const gatewayCall = isGatewayCallSpan(span);
  const hasUsage = hasUsageAttribute(attributes);
  if (!hasUsage && !gatewayCall) return null;

  const usage: TokenUsage = { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n, reasoning: 0n };
  const invalidAttributes: string[] = [];
  for (const [field, name] of USAGE_FIELDS) {
    if (!(name in attributes)) continue;
    const count = tokenCount(attributes[name]);
    if (count === null) invalidAttributes.push(name);
    else usage[field] = count;
  }
  const usageStatus: UsageStatus = !hasUsage ? 'missing' : gatewayCall && attributes[GatewayAttr.usageStatus] === 'partial' ? 'partial' : 'reported';
  return { model: modelOf(attributes), startedAt: startOf(span), usage, invalidAttributes, usageStatus, errorType: errorTypeOf(span) };
}

function errorTypeOf(span: SpanRecord): string | null {
  const type = span.attributes?.[ERROR_TYPE_ATTRIBUTE];
  if (typeof type === 'string' && type.length > 0) return type;
  return span.status?.code === 'error' ? OTHER_ERROR_TYPE : null;
}

function hasUsageAttribute(attributes: Record<string, SpanAttributeValue>): boolean {
  for (const k in attributes) if (k.startsWith('gen_ai.usage.')) return true;
  return false;
}

function modelOf(attributes: Record<string, SpanAttributeValue>): string {
  for (const name of [GenAiAttr.responseModel, GenAiAttr.requestModel]) {
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
