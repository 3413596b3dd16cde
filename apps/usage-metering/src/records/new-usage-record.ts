import { END_USER_ATTRIBUTES, GatewayAttr, GenAiAttr, type SpanBatch, type SpanRecord, type UsageStatus, type UsageType } from '#libs/contracts';
import { formatDecimal } from '#libs/money';
import { isStorableText } from './copy-text.js';
import { MalformedSpanError } from '../pricing/llm-call.js';
import type { PriceCatalogue } from '../pricing/price-catalogue.js';
import type { UsageEstimator } from '../pricing/usage-estimator.js';
import { priceSpan } from '../pricing/span-pricer.js';
import type { PricingOutcome } from '../pricing/usage-pricer.js';
import type { TokenUsage } from '../pricing/token-usage.js';

/** A usage record about to be inserted: a priced span, or an unpriced one with its reason (usage_missing when it has no usage). */
export interface NewUsageRecord {
  id: string;
  organisationId: string;
  projectId: string | null;
  keyId: string | null;
  traceId: string;
  spanId: string;
  source: string;
  model: string;
  /** gen_ai.provider.name (or gen_ai.system), when the span says. */
  provider: string | null;
  /** The connection and provider model of a gateway call (gateway.connection_id, gateway.model); null otherwise. */
  connectionId: string | null;
  providerModel: string | null;
  /** The end user the call was made for (gateway.user; an OTLP span's user.id or enduser.id). */
  userId: string | null;
  startedAt: Date;
  /** All 0 when usageStatus is 'missing' (unknown, not zero: the status says so). */
  usage: TokenUsage;
  usageStatus: UsageStatus;
  /** The usage was estimated from the call's text with its definition's tokenizer, not reported by the provider. */
  estimated: boolean;
  /** The span's error.type when the call failed. */
  errorType: string | null;
  definitionId: string | null;
  priceEffectiveFrom: Date | null;
  /** Exact decimal string; null when unpriced. */
  cost: string | null;
  costBreakdown: Partial<Record<UsageType, string>> | null;
  priced: boolean;
  unpricedReason: string | null;
}

export interface BatchRecords {
  records: NewUsageRecord[];
  /** Spans that could not be read at all (a broken producer), with why; logged by the caller. */
  malformed: string[];
}

/** The pricing columns of a record, as stored. */
export function pricingColumns(outcome: PricingOutcome): Pick<NewUsageRecord, 'definitionId' | 'priceEffectiveFrom' | 'cost' | 'costBreakdown' | 'priced' | 'unpricedReason'> {
  return outcome.priced
    ? { definitionId: outcome.definitionId, priceEffectiveFrom: outcome.priceEffectiveFrom, cost: formatDecimal(outcome.cost), costBreakdown: outcome.breakdown, priced: true, unpricedReason: null }
    : { definitionId: outcome.definitionId, priceEffectiveFrom: outcome.priceEffectiveFrom, cost: null, costBreakdown: null, priced: false, unpricedReason: outcome.reason };
}

/**
 * The usage records of one span batch: each LLM-call span priced once (a span repeated within the
 * batch counts once), a gateway call without usage recorded as usage-missing, spans that are not LLM
 * calls left out, unreadable spans reported. A span is one per (organisation, trace id, span id).
 */
export function usageRecordsForBatch(batch: SpanBatch, catalogue: PriceCatalogue, newId: () => string, estimator?: UsageEstimator): BatchRecords {
  if (typeof batch !== 'object' || batch === null || !Array.isArray(batch.spans)) {
    // Not a SpanBatch at all: failing makes the stream retry and then dead-letter it for an admin.
    throw new MalformedSpanError('message is not a SpanBatch (no spans array)');
  }
  const records: NewUsageRecord[] = [];
  const malformed: string[] = [];
  const seen = new Set<string>();
  for (const span of batch.spans as unknown[]) {
    const problem = shapeProblem(span);
    if (problem) {
      malformed.push(problem);
      continue;
    }
    const s = span as SpanRecord;
    const identity = `${s.organisationId}\u0000${s.traceId}\u0000${s.spanId}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    let pricing;
    try {
      pricing = priceSpan(s, catalogue, estimator);
    } catch (err) {
      if (!(err instanceof MalformedSpanError)) throw err;
      malformed.push(err.message);
      continue;
    }
    if (pricing === null) continue;
    const unstorable = unstorableField(s, pricing.call.model, pricing.call.errorType);
    if (unstorable) {
      malformed.push(`span ${s.traceId}/${s.spanId}: its ${unstorable} holds a NUL character or an unpaired surrogate, which cannot be stored`);
      continue;
    }
    records.push({
      id: newId(),
      organisationId: s.organisationId,
      projectId: s.projectId ?? null,
      keyId: s.keyId ?? null,
      traceId: s.traceId,
      spanId: s.spanId,
      source: s.source,
      model: pricing.call.model,
      ...callDimensions(s),
      startedAt: pricing.call.startedAt,
      usage: pricing.call.usage,
      usageStatus: pricing.call.usageStatus,
      estimated: pricing.estimated,
      errorType: pricing.call.errorType,
      ...pricingColumns(pricing.outcome),
    });
  }
  return { records, malformed };
}

/** What the cost report groups calls by beside the model: the provider, and for a gateway call its connection and provider model. */
function callDimensions(s: SpanRecord): Pick<NewUsageRecord, 'provider' | 'connectionId' | 'providerModel' | 'userId'> {
  const text = (name: string): string | null => {
    const v = s.attributes[name];
    return typeof v === 'string' && v.length > 0 && isStorableText(v) ? v : null;
  };
  const gateway = s.source === 'gateway';
  return {
    provider: text(GenAiAttr.providerName) ?? text('gen_ai.system'),
    connectionId: gateway ? text(GatewayAttr.connectionId) : null,
    providerModel: gateway ? text(GatewayAttr.model) : null,
    userId: gateway ? text(GatewayAttr.user) : (text(END_USER_ATTRIBUTES[0]) ?? text(END_USER_ATTRIBUTES[1])),
  };
}

/** The first of the span's texts a record stores that Postgres could not hold, by name. */
function unstorableField(s: SpanRecord, model: string, errorType: string | null): string | null {
  const texts: [string, string | null | undefined][] = [
    ['trace id', s.traceId],
    ['span id', s.spanId],
    ['organisation', s.organisationId],
    ['project', s.projectId],
    ['key', s.keyId],
    ['source', s.source],
    ['model', model],
    ['error type', errorType],
  ];
  for (const [name, value] of texts) if (value && !isStorableText(value)) return name;
  return null;
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const optionalId = (v: unknown): boolean => v === null || v === undefined || nonEmpty(v);

/** What a span must have to be stored at all: its identity, its tenant, its attributes. */
function shapeProblem(span: unknown): string | null {
  if (typeof span !== 'object' || span === null) return 'a span is not an object';
  const s = span as Partial<Record<keyof SpanRecord, unknown>>;
  const name = `span ${String(s.traceId)}/${String(s.spanId)}`;
  if (!nonEmpty(s.traceId) || !nonEmpty(s.spanId)) return `${name} has no trace id or span id`;
  if (!nonEmpty(s.organisationId)) return `${name} has no organisation`;
  if (!optionalId(s.projectId) || !optionalId(s.keyId)) return `${name} has an invalid project or key id`;
  if (!nonEmpty(s.source)) return `${name} has no source`;
  if (typeof s.attributes !== 'object' || s.attributes === null || Array.isArray(s.attributes)) return `${name} has no attributes`;
  return null;
}
