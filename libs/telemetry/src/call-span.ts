import { randomFillSync } from 'node:crypto';
import { parseTraceParent } from '@opentelemetry/core';
import type { SpanAttributeValue, SpanRecord } from '#libs/contracts';

/** Where a span goes when it ends (the publisher that batches spans onto the bus). */
export interface SpanSink {
  add(record: SpanRecord): void;
  /** The same record already as its JSON text (what CallSpan hands a sink that takes it: no record object). */
  addJson?(json: string): void;
}

/** Whose call a span records: the gateway key's tenant (read once per object: give a new object for other ids, never change one). */
export interface SpanTenant {
  organisationId: string;
  projectId: string | null;
  keyId: string | null;
}

/** The clock spans are timed by: Unix epoch milliseconds, with the sub-millisecond fraction. */
export interface SpanClock {
  nowMs(): number;
}

const TIME_ORIGIN_MS = performance.timeOrigin;

/** Wall-clock time at start plus a monotonic clock since (as OpenTelemetry's SDK times spans). */
export const monotonicSpanClock: SpanClock = {
  nowMs: () => TIME_ORIGIN_MS + performance.now(),
};

/** W3C trace-context ids: a 16-byte trace id and an 8-byte span id, lowercase hex, never all zero. */
export interface SpanIdSource {
  traceId(): string;
  spanId(): string;
}

const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * Random ids from the system's cryptographic generator, drawn a few hundred spans' worth at a
 * time (one randomFillSync per 4 KB rather than a call, or a Math.random per byte, per span).
 */
export class RandomSpanIds implements SpanIdSource {
  private readonly pool = Buffer.allocUnsafe(4096);
  private at = this.pool.length;

  traceId(): string {
    let id: string;
    do id = this.hex(16);
    while (id === ZERO_TRACE_ID);
    return id;
  }

  spanId(): string {
    let id: string;
    do id = this.hex(8);
    while (id === ZERO_SPAN_ID);
    return id;
  }

  private hex(bytes: number): string {
    if (this.at + bytes > this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const id = this.pool.toString('hex', this.at, this.at + bytes);
    this.at += bytes;
    return id;
  }
}

let lastSeconds = -1;
let lastSecondsText = '';

/**
 * Epoch milliseconds (with a fraction) as decimal epoch nanoseconds, rounded to the nanosecond.
 * The seconds' digits are kept from the previous call: turning a number past 2^30 into text is
 * V8's slow path, and spans end many times a second.
 */
export function unixNanos(ms: number): string {
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  if (seconds === 0) return String(nanos);
  if (seconds !== lastSeconds) {
    lastSeconds = seconds;
    lastSecondsText = String(seconds);
  }
  return lastSecondsText + String(nanos).padStart(9, '0');
}

export interface CallSpanStart {
  name: string;
  tenant: SpanTenant;
  /** The first attributes (read once, at the start). */
  attributes: Record<string, SpanAttributeValue>;
  /** The caller's `traceparent` header: the span joins the caller's trace as a child of its span. */
  traceparent?: string | string[];
}

const UNSET: SpanRecord['status'] = { code: 'unset' };

/**
 * One call as an OpenTelemetry span (W3C trace context, GenAI attributes, status), recorded
 * straight into the span record metering reads. It replaces OpenTelemetry's SDK span on the
 * request path, whose attribute validation, context objects and conversion to a record cost a
 * proxy's whole budget several times over (`npm run bench -- --profile` showed ~12 us per call).
 */
export class CallSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  private readonly startMs: number;
  private status = UNSET;
  private ended = false;
  /**
   * The attributes as two parallel arrays (a call sets ~17): one monomorphic push per attribute,
   * where keyed stores into a plain object were megamorphic and, past 12 added properties, turned
   * it into a dictionary that JSON.stringify then walks slowly (`npm run bench -- --profile
   * --profile-stream`: setAttribute and the record's serialisation ~25 us per call).
   */
  private readonly keys: string[] = [];
  private readonly values: SpanAttributeValue[] = [];

  constructor(
    private readonly sink: SpanSink,
    private readonly clock: SpanClock,
    ids: SpanIdSource,
    private readonly start: CallSpanStart,
  ) {
    const parent = start.traceparent === undefined ? null : parseTraceParent(Array.isArray(start.traceparent) ? start.traceparent[0]! : start.traceparent);
    this.traceId = parent?.traceId ?? ids.traceId();
    this.parentSpanId = parent?.spanId ?? null;
    this.spanId = ids.spanId();
    this.startMs = clock.nowMs();
    for (const key in start.attributes) {
      this.keys.push(key);
      this.values.push(start.attributes[key]!);
    }
  }

  /** Sets (or replaces) one attribute; ignored once the span has ended. */
  setAttribute(key: string, value: SpanAttributeValue): void {
    if (this.ended) return;
    const at = this.keys.indexOf(key);
    if (at === -1) {
      this.keys.push(key);
      this.values.push(value);
    } else this.values[at] = value;
  }

  /** Marks the call failed: status error with the message, `error.type` the kind of failure. */
  setError(message: string, type: string): void {
    if (this.ended) return;
    this.status = { code: 'error', message };
    this.setAttribute('error.type', type);
  }

  /** Ends the span and hands its record (its JSON, when the sink takes that) to the sink; a second call does nothing. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const endMs = this.clock.nowMs();
    const startTimeUnixNano = unixNanos(this.startMs);
    const endTimeUnixNano = unixNanos(Math.max(endMs, this.startMs));
    const { name, tenant } = this.start;
    if (this.sink.addJson) {
      // The same text JSON.stringify makes of the record below (keys in the same order).
      this.sink.addJson(
        // The ids are lowercase hex (ours, or a traceparent's that parseTraceParent checked): their own JSON between quotes.
        `{"traceId":"${this.traceId}","spanId":"${this.spanId}","parentSpanId":${this.parentSpanId === null ? 'null' : `"${this.parentSpanId}"`},` +
          `"name":${jsonString(name)},"startTimeUnixNano":"${startTimeUnixNano}","endTimeUnixNano":"${endTimeUnixNano}",` +
          `"status":${this.status === UNSET ? UNSET_JSON : JSON.stringify(this.status)},"attributes":${this.attributesJson()},` +
          `${tenantJson(tenant)},"source":"gateway"}`,
      );
      return;
    }
    const attributes: Record<string, SpanAttributeValue> = {};
    for (let i = 0; i < this.keys.length; i++) attributes[this.keys[i]!] = this.values[i]!;
    this.sink.add({
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: this.parentSpanId,
      name,
      startTimeUnixNano,
      endTimeUnixNano,
      status: this.status,
      attributes,
      organisationId: tenant.organisationId,
      projectId: tenant.projectId,
      keyId: tenant.keyId,
      source: 'gateway',
    });
  }

  private attributesJson(): string {
    let json = '{';
    let first = true;
    for (let i = 0; i < this.keys.length; i++) {
      const value = this.values[i];
      if (value === undefined) continue; // as JSON.stringify leaves it out
      const key = keyJson(this.keys[i]!);
      // A plain string (most values: names, ids) follows its key's `"key":"` directly: three
      // concatenations where the separator, the key and the quoted value took five.
      if (typeof value === 'string' && PLAIN_JSON_TEXT.test(value)) {
        json += first ? key.quoted : key.nextQuoted;
        json += value;
        json += '"';
      } else {
        json += first ? key.bare : key.next;
        json += typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' ? jsonNumber(value) : typeof value === 'boolean' ? (value ? 'true' : 'false') : JSON.stringify(value);
      }
      first = false;
    }
    return json + '}';
  }
}

const UNSET_JSON = JSON.stringify(UNSET);

/**
 * A tenant's members of the span JSON, made once per tenant object (its fields are read once, as
 * the span's start attributes are): the gateway passes each call's key principal, the same object
 * for every call of a key, so its ids are escaped once rather than per span.
 */
const TENANT_JSON = new WeakMap<SpanTenant, string>();

function tenantJson(tenant: SpanTenant): string {
  let json = TENANT_JSON.get(tenant);
  if (json === undefined) {
    json = `"organisationId":${jsonString(tenant.organisationId)},"projectId":${tenant.projectId === null ? 'null' : jsonString(tenant.projectId)},"keyId":${tenant.keyId === null ? 'null' : jsonString(tenant.keyId)}`;
    TENANT_JSON.set(tenant, json);
  }
  return json;
}

/** Printable ASCII but `"` and `\\`: a string of only these is its own JSON text between quotes. */
const PLAIN_JSON_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * A string as JSON.stringify writes it. The ids, names and model names a span carries are plain
 * ASCII, quoted as they are (JSON.stringify per attribute was most of a span's serialisation in the
 * JSON call's profile, ~60 ns each); anything else is escaped by JSON.stringify.
 */
function jsonString(text: string): string {
  return PLAIN_JSON_TEXT.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** A number as JSON.stringify writes it: its shortest text, `null` when it is not finite. */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** `"key":` of the attribute names a process uses (a few dozen constants), escaped once each. */
const KEY_JSON = new Map<string, KeyJson>();
const KEY_JSON_LIMIT = 1024;

/** An attribute name's JSON before its value: first or after a comma, and with a string value's opening quote. */
interface KeyJson {
  bare: string;
  next: string;
  quoted: string;
  nextQuoted: string;
}

function keyJson(key: string): KeyJson {
  let json = KEY_JSON.get(key);
  if (json === undefined) {
    const bare = `${JSON.stringify(key)}:`;
    json = { bare, next: `,${bare}`, quoted: `${bare}"`, nextQuoted: `,${bare}"` };
    if (KEY_JSON.size < KEY_JSON_LIMIT) KEY_JSON.set(key, json);
  }
  return json;
}
