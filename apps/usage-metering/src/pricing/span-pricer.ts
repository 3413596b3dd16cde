import type { SpanRecord } from '#libs/contracts';
import { readLlmCall, type LlmCall } from './llm-call.js';
import type { PriceCatalogue } from './price-catalogue.js';
import { UsageEstimator } from './usage-estimator.js';
import { INCONSISTENT_USAGE, priceUsage, unpriced, USAGE_MISSING, type PricingOutcome } from './usage-pricer.js';

/** One per process: its BPE counters are a few MB each. */
const sharedEstimator = new UsageEstimator();

export interface SpanPricing {
  call: LlmCall;
  outcome: PricingOutcome;
  /** The usage was counted from the call's text with the definition's tokenizer, not reported. */
  estimated: boolean;
}

/**
 * Prices a span, or returns null when it is not one to record (not an LLM call, or neither usage
 * nor text and not a gateway call). A call without usage but with its text is estimated with the
 * matching definition's tokenizer and priced like any other. A call without usage or text is
 * unpriced (usage_missing): no cost, never $0.
 * @throws MalformedSpanError when the span's start time is unreadable
 */
export function priceSpan(span: SpanRecord, catalogue: PriceCatalogue, estimator: UsageEstimator = sharedEstimator): SpanPricing | null {
  const call = readLlmCall(span);
  if (call === null) return null;
  if (call.usageStatus === 'missing') return { call, outcome: unpriced(USAGE_MISSING), estimated: false };
  if (call.invalidAttributes.length > 0) return { call, outcome: unpriced(INCONSISTENT_USAGE), estimated: false };
  const lookup = { organisationId: span.organisationId, projectId: span.projectId, model: call.model, startedAt: call.startedAt };
  let estimated = false;
  if (call.estimateFrom) {
    const tokens = estimator.estimate(call.estimateFrom, catalogue.tokenizerFor(lookup));
    call.usage = { ...call.usage, input: tokens.input, output: tokens.output };
    estimated = true;
  }
  return { call, outcome: priceUsage({ ...lookup, usage: call.usage }, catalogue), estimated };
}
