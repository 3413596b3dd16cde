import type { Attributes, HrTime } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { SpanAttributeValue, SpanRecord } from '#libs/contracts';

/** Span attributes the gateway sets to say whose call it was; moved into the record's own fields. */
export const TenantAttr = {
  organisationId: 'gateway.organisation_id',
  projectId: 'gateway.project_id',
  keyId: 'gateway.key_id',
} as const;

/** [seconds, nanoseconds] as decimal epoch nanoseconds, by joining the digits (no BigInt per span). */
export function hrTimeToNanos(t: HrTime): string {
  const [seconds, nanos] = t;
  return seconds === 0 ? String(nanos) : `${seconds}${String(nanos).padStart(9, '0')}`;
}

function flatten(attributes: Attributes): Record<string, SpanAttributeValue> {
  const out: Record<string, SpanAttributeValue> = {};
  for (const k in attributes) {
    const v = attributes[k];
    if (v === undefined || v === null) continue;
    if (k === TenantAttr.organisationId || k === TenantAttr.projectId || k === TenantAttr.keyId) continue;
    out[k] = v as SpanAttributeValue;
  }
  return out;
}

export function toSpanRecord(span: ReadableSpan, fallbackOrganisationId: string): SpanRecord {
  const ctx = span.spanContext();
  const a = span.attributes;
  const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    startTimeUnixNano: hrTimeToNanos(span.startTime),
    endTimeUnixNano: hrTimeToNanos(span.endTime),
    status: {
      code: span.status.code === SpanStatusCode.ERROR ? 'error' : span.status.code === SpanStatusCode.OK ? 'ok' : 'unset',
      ...(span.status.message ? { message: span.status.message } : {}),
    },
    attributes: flatten(a),
    organisationId: str(a[TenantAttr.organisationId]) ?? fallbackOrganisationId,
    projectId: str(a[TenantAttr.projectId]),
    keyId: str(a[TenantAttr.keyId]),
    source: 'gateway',
  };
}
