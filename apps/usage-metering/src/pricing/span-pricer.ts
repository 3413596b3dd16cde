import type { SpanRecord } from '#libs/contracts';
import { readLlmCall, type LlmCall } from './llm-call.js';
import type { PriceCatalogue } from './price-catalogue.js';
import { INCONSISTENT_USAGE, priceUsage, unpriced, type PricingOutcome } from './usage-pricer.js';

export interface SpanPricing {
  call: LlmCall;
  outcome: PricingOutcome;
}

/**
 * Prices a span, or returns null when it is not one to price (not an LLM call, or no usage).
 * @throws MalformedSpanError when the span's start time is unreadable
 */
export function priceSpan(span: SpanRecord, catalogue: PriceCatalogue): SpanPricing | null {
  const call = readLlmCall(span);
  if (call === null) return null;
  if (call.invalidAttributes.length > 0) return { call, outcome: unpriced(INCONSISTENT_USAGE) };
  const outcome = priceUsage({ organisationId: span.organisationId, projectId: span.projectId, model: call.model, startedAt: call.startedAt, usage: call.usage }, catalogue);
  return { call, outcome };
}
