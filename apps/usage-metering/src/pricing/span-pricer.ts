import type { SpanRecord } from '#libs/contracts';
import { readLlmCall, type LlmCall } from './llm-call.js';
import type { PriceCatalogue } from './price-catalogue.js';
import { INCONSISTENT_USAGE, priceUsage, unpriced, USAGE_MISSING, type PricingOutcome } from './usage-pricer.js';

export interface SpanPricing {
  call: LlmCall;
  outcome: PricingOutcome;
}

/**
 * Prices a span, or returns null when it is not one to record (not an LLM call, or no usage and not
 * a gateway call). A call without usage is unpriced (usage_missing): no cost, never $0.
 * @throws MalformedSpanError when the span's start time is unreadable
 */
export function priceSpan(span: SpanRecord, catalogue: PriceCatalogue): SpanPricing | null {
  const call = readLlmCall(span);
  if (call === null) return null;
  if (call.usageStatus === 'missing') return { call, outcome: unpriced(USAGE_MISSING) };
  if (call.invalidAttributes.length > 0) return { call, outcome: unpriced(INCONSISTENT_USAGE) };
  const outcome = priceUsage({ organisationId: span.organisationId, projectId: span.projectId, model: call.model, startedAt: call.startedAt, usage: call.usage }, catalogue);
  return { call, outcome };
}
