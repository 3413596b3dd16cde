import { randomFillSync } from 'node:crypto';
import { parseTraceParent } from '@opentelemetry/core';
import type { SpanAttributeValue, SpanRecord } from '#libs/contracts';

/** Where a span goes when it ends (the publisher that batches spans onto the bus). */
export interface SpanSink {
  add(record: SpanRecord): void;
  /**
   * The same record as JSON text the span writes itself into the sink's output (what CallSpan
   * hands a sink that takes it: no record object, and no string of the span's JSON either).
   */
  addSpan?(span: SpanJson): void;
}

/** A span that writes its SpanRecord's JSON (the text JSON.stringify makes of the record). */
export interface SpanJson {
  writeJson(out: JsonTextOut): void;
}

/**
 * Where a span writes its JSON, piece by piece, straight into the bytes that go on the bus.
 * Building the span's text as one string first cost ~3.7 KB of short-lived strings a span (the
 * pieces' cons strings, then their flattened copy for Buffer.write): the largest allocation site of
 * the json-c64 bench's allocation profile.
 */
export interface JsonTextOut {
  /** JSON text already encoded as UTF-8 (the constant and cached pieces: copied, not re-encoded). */
  bytes(encoded: Uint8Array): void;
  /** Text that is JSON already (punctuation, hex ids, a number's text). */
  json(text: string): void;
  /** A string as JSON.stringify writes it, quotes included. */
  string(text: string): void;
  /** A number as JSON.stringify writes it: its shortest text, `null` when it is not finite. */
  number(n: number): void;
  /** A non-negative integer below 2^53 in decimal, zero-padded to at least `width` digits. */
  digits(n: number, width: number): void;
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
  const nanos = splitUnixNanos(ms);
  if (nanos.seconds === 0) return String(nanos.nanos);
  return secondsText(nanos.seconds) + String(nanos.nanos).padStart(9, '0');
}

/** unixNanos(ms) with its quotes, written without making its string. */
function writeUnixNanos(out: JsonTextOut, ms: number): void {
  const nanos = splitUnixNanos(ms);
  out.json('"');
  if (nanos.seconds === 0) out.digits(nanos.nanos, 1);
  else {
    out.json(secondsText(nanos.seconds));
    out.digits(nanos.nanos, 9);
  }
  out.json('"');
}

/** One object reused by every call (it never escapes: read right after). */
const SPLIT = { seconds: 0, nanos: 0 };

function splitUnixNanos(ms: number): typeof SPLIT {
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  SPLIT.seconds = seconds;
  SPLIT.nanos = nanos;
  return SPLIT;
}

function secondsText(seconds: number): string {
  if (seconds !== lastSeconds) {
    lastSeconds = seconds;
    lastSecondsText = String(seconds);
  }
  return lastSecondsText;
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
export class CallSpan implements SpanJson {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  private readonly startMs: number;
  private endMs = 0;
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

  /** Ends the span and hands its record (or itself, to write its JSON, when the sink takes that) to the sink; a second call does nothing. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.endMs = Math.max(this.clock.nowMs(), this.startMs);
    if (this.sink.addSpan) {
      this.sink.addSpan(this);
      return;
    }
    const { name, tenant } = this.start;
    const attributes: Record<string, SpanAttributeValue> = {};
    for (let i = 0; i < this.keys.length; i++) attributes[this.keys[i]!] = this.values[i]!;
    this.sink.add({
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: this.parentSpanId,
      name,
      startTimeUnixNano: unixNanos(this.startMs),
      endTimeUnixNano: unixNanos(this.endMs),
      status: this.status,
      attributes,
      organisationId: tenant.organisationId,
      projectId: tenant.projectId,
      keyId: tenant.keyId,
      source: 'gateway',
    });
  }

  /** The ended span's record as the text JSON.stringify makes of it (keys in the same order). */
  writeJson(out: JsonTextOut): void {
    // The ids are lowercase hex (ours, or a traceparent's that parseTraceParent checked): their own JSON between quotes.
    out.bytes(TRACE_ID);
    out.json(this.traceId);
    out.bytes(SPAN_ID);
    out.json(this.spanId);
    if (this.parentSpanId === null) out.bytes(NO_PARENT_NAME);
    else {
      out.bytes(PARENT_ID);
      out.json(this.parentSpanId);
      out.bytes(NAME);
    }
    out.string(this.start.name);
    out.bytes(START_TIME);
    writeUnixNanos(out, this.startMs);
    out.bytes(END_TIME);
    writeUnixNanos(out, this.endMs);
    out.bytes(STATUS);
    if (this.status === UNSET) out.bytes(UNSET_JSON);
    else out.json(JSON.stringify(this.status));
    out.bytes(ATTRIBUTES);
    let first = true;
    for (let i = 0; i < this.keys.length; i++) {
      const value = this.values[i];
      if (value === undefined) continue; // as JSON.stringify leaves it out
      const key = keyJson(this.keys[i]!);
      out.bytes(first ? key.bare : key.next);
      first = false;
      if (Array.isArray(value)) {
        out.json('[');
        for (let j = 0; j < value.length; j++) {
          if (j > 0) out.json(',');
          writeValue(out, value[j]);
        }
        out.json(']');
      } else writeValue(out, value);
    }
    out.json('},');
    out.bytes(tenantJson(this.start.tenant));
    out.bytes(SOURCE);
  }
}

/** An attribute's value (or an array's element) as JSON.stringify writes it. */
function writeValue(out: JsonTextOut, value: unknown): void {
  if (typeof value === 'string') out.string(value);
  else if (typeof value === 'number') out.number(value);
  else if (typeof value === 'boolean') out.json(value ? 'true' : 'false');
  // Outside the type: what JSON.stringify makes of it (null where it writes nothing, as in an array).
  else out.json(JSON.stringify(value) ?? 'null');
}

/**
 * UTF-8 of a piece of span JSON kept for the process's life, in memory of its own: a small
 * Buffer.from is a slice of Node's shared 8 KB pool, which a cached slice would keep alive whole.
 */
const UTF8 = new TextEncoder();
const encoded = (text: string): Uint8Array => UTF8.encode(text);

/** The span JSON's constant pieces, encoded once. */
const UNSET_JSON = encoded(JSON.stringify(UNSET));
const TRACE_ID = encoded('{"traceId":"');
const SPAN_ID = encoded('","spanId":"');
const NO_PARENT_NAME = encoded('","parentSpanId":null,"name":');
const PARENT_ID = encoded('","parentSpanId":"');
const NAME = encoded('","name":');
const START_TIME = encoded(',"startTimeUnixNano":');
const END_TIME = encoded(',"endTimeUnixNano":');
const STATUS = encoded(',"status":');
const ATTRIBUTES = encoded(',"attributes":{');
const SOURCE = encoded(',"source":"gateway"}');

/**
 * A tenant's members of the span JSON, made once per tenant object (its fields are read once, as
 * the span's start attributes are): the gateway passes each call's key principal, the same object
 * for every call of a key, so its ids are escaped once rather than per span.
 */
const TENANT_JSON = new WeakMap<SpanTenant, Uint8Array>();

function tenantJson(tenant: SpanTenant): Uint8Array {
  let json = TENANT_JSON.get(tenant);
  if (json === undefined) {
    json = encoded(`"organisationId":${JSON.stringify(tenant.organisationId)},"projectId":${JSON.stringify(tenant.projectId)},"keyId":${JSON.stringify(tenant.keyId)}`);
    TENANT_JSON.set(tenant, json);
  }
  return json;
}

/** `"key":` of the attribute names a process uses (a few dozen constants), escaped once each. */
const KEY_JSON = new Map<string, KeyJson>();
const KEY_JSON_LIMIT = 1024;

/** An attribute name's JSON before its value: first, or after a comma. */
interface KeyJson {
  bare: Uint8Array;
  next: Uint8Array;
}

function keyJson(key: string): KeyJson {
  let json = KEY_JSON.get(key);
  if (json === undefined) {
    const bare = `${JSON.stringify(key)}:`;
    json = { bare: encoded(bare), next: encoded(`,${bare}`) };
    if (KEY_JSON.size < KEY_JSON_LIMIT) KEY_JSON.set(key, json);
  }
  return json;
}
