import type { SpanAttributeValue, SpanRecord } from '#libs/contracts';

/** A request body that is not a valid OTLP trace export: 400, with the path of the bad field. */
export class OtlpPayloadError extends Error {
  override name = 'OtlpPayloadError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

/** Whose spans these are: set by the intake from the gateway key, never read from the payload. */
export interface SpanOwner {
  organisationId: string;
  projectId: string | null;
  keyId: string;
}

/**
 * The ids of the OTLP/JSON form (hex strings) or of the protobuf form (bytes): the protobuf reader
 * hands both over as they came and this reader checks them alike.
 */
type IdValue = string | Uint8Array;

const STATUS_CODES: Record<string, SpanRecord['status']['code']> = {
  '0': 'unset',
  '1': 'ok',
  '2': 'error',
  STATUS_CODE_UNSET: 'unset',
  STATUS_CODE_OK: 'ok',
  STATUS_CODE_ERROR: 'error',
};

/**
 * Reads an ExportTraceServiceRequest (OTLP/JSON as sent, or the protobuf message decoded to the same
 * field names, see otlp-protobuf.ts) into span records owned by `owner`. Every field is checked
 * before anything is kept, so a bad export stores nothing.
 * https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding: ids are hex (not base64),
 * 64-bit integers may be strings or numbers, enums are integers, unknown fields are ignored.
 * @throws OtlpPayloadError naming the first field that is not what OTLP says
 */
export function readOtlpSpans(body: unknown, owner: SpanOwner): SpanRecord[] {
  const request = objectAt(body, 'body');
  const spans: SpanRecord[] = [];
  arrayAt(request.resourceSpans, 'resourceSpans').forEach((rs, i) => {
    const resourceSpans = objectAt(rs, `resourceSpans[${i}]`);
    // instrumentationLibrarySpans: the name before OTLP 1.0 (field 1000), still sent by old SDKs.
    const scopes = resourceSpans.scopeSpans !== undefined ? { list: resourceSpans.scopeSpans, name: 'scopeSpans' } : { list: resourceSpans.instrumentationLibrarySpans, name: 'instrumentationLibrarySpans' };
    arrayAt(scopes.list, `resourceSpans[${i}].${scopes.name}`).forEach((ss, j) => {
      const path = `resourceSpans[${i}].${scopes.name}[${j}]`;
      arrayAt(objectAt(ss, path).spans, `${path}.spans`).forEach((span, k) => spans.push(readSpan(span, `${path}.spans[${k}]`, owner)));
    });
  });
  return spans;
}

function readSpan(value: unknown, path: string, owner: SpanOwner): SpanRecord {
  const span = objectAt(value, path);
  const parent = span.parentSpanId;
  const parentSpanId = parent === undefined || parent === null || parent === '' || (parent instanceof Uint8Array && parent.length === 0) ? null : idAt(parent, 8, `${path}.parentSpanId`);
  return {
    traceId: idAt(span.traceId, 16, `${path}.traceId`),
    spanId: idAt(span.spanId, 8, `${path}.spanId`),
    parentSpanId,
    name: optionalStringAt(span.name, `${path}.name`),
    startTimeUnixNano: nanosAt(span.startTimeUnixNano, `${path}.startTimeUnixNano`, true),
    endTimeUnixNano: nanosAt(span.endTimeUnixNano, `${path}.endTimeUnixNano`, false),
    status: statusAt(span.status, `${path}.status`),
    attributes: attributesAt(span.attributes, `${path}.attributes`),
    organisationId: owner.organisationId,
    projectId: owner.projectId,
    keyId: owner.keyId,
    source: 'otlp',
  };
}

function objectAt(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) throw new OtlpPayloadError(path, 'must be an object');
  return value as Record<string, unknown>;
}

/** A repeated field: absent (proto3 omits empty ones) is empty. */
function arrayAt(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpPayloadError(path, 'must be an array');
  return value;
}

function optionalStringAt(value: unknown, path: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new OtlpPayloadError(path, 'must be a string');
  return value;
}

const HEX = /^[0-9a-fA-F]*$/;

/** A trace id (16 bytes) or span id (8 bytes), as lowercase hex; all zeros is invalid (OTLP). */
function idAt(value: unknown, bytes: number, path: string): string {
  let hex: string;
  if (value instanceof Uint8Array) {
    if (value.length !== bytes) throw new OtlpPayloadError(path, `must be ${bytes} bytes, got ${value.length}`);
    hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  } else if (typeof value === 'string') {
    if (value.length !== bytes * 2 || !HEX.test(value)) throw new OtlpPayloadError(path, `must be ${bytes * 2} hexadecimal digits`);
    hex = value.toLowerCase();
  } else throw new OtlpPayloadError(path, value === undefined ? 'is required' : `must be ${bytes * 2} hexadecimal digits`);
  if (/^0+$/.test(hex)) throw new OtlpPayloadError(path, 'must not be all zeros');
  return hex;
}

const MAX_UINT64 = 18_446_744_073_709_551_615n;

/**
 * fixed64 nanoseconds: a decimal string or a JSON integer. A number past 2^53 has lost its last
 * digits in any JSON parser already; nanoseconds matter to no price (prices apply by the
 * millisecond), so it is taken as it came.
 */
function nanosAt(value: unknown, path: string, required: boolean): string {
  if (value === undefined || value === null) {
    if (required) throw new OtlpPayloadError(path, 'is required');
    return '0';
  }
  let text: string;
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) text = value;
  else if (typeof value === 'number' && Number.isInteger(value) && value >= 0) text = BigInt(value).toString();
  else throw new OtlpPayloadError(path, 'must be an unsigned 64-bit integer (nanoseconds since the epoch), as a string or a number');
  const n = BigInt(text);
  if (n > MAX_UINT64) throw new OtlpPayloadError(path, 'is larger than an unsigned 64-bit integer');
  if (required && n === 0n) throw new OtlpPayloadError(path, 'must not be 0');
  return n.toString();
}

function statusAt(value: unknown, path: string): SpanRecord['status'] {
  if (value === undefined || value === null) return { code: 'unset' };
  const status = objectAt(value, path);
  const raw = status.code ?? 0;
  const code = typeof raw === 'number' || typeof raw === 'string' ? STATUS_CODES[String(raw)] : undefined;
  if (!code) throw new OtlpPayloadError(`${path}.code`, 'must be 0 (unset), 1 (ok) or 2 (error)');
  const message = optionalStringAt(status.message, `${path}.message`);
  return message ? { code, message } : { code };
}

function attributesAt(value: unknown, path: string): Record<string, SpanAttributeValue> {
  const attributes: Record<string, SpanAttributeValue> = {};
  arrayAt(value, path).forEach((kv, i) => {
    const at = `${path}[${i}]`;
    const entry = objectAt(kv, at);
    if (typeof entry.key !== 'string' || entry.key.length === 0) throw new OtlpPayloadError(`${at}.key`, 'must be a non-empty string');
    const attribute = anyValueAt(entry.value, `${at}.value`);
    if (attribute !== undefined) attributes[entry.key] = attribute;
  });
  return attributes;
}

type Scalar = string | number | boolean;

/**
 * An AnyValue as a span attribute: scalars as they are (an int64 beyond 2^53 as its decimal
 * string, so no digit is lost), arrays of one scalar type as arrays, anything else (mixed arrays,
 * key-value lists, bytes) as JSON or base64 text. An empty AnyValue is no attribute.
 */
function anyValueAt(value: unknown, path: string): SpanAttributeValue | undefined {
  if (value === undefined || value === null) return undefined;
  const any = objectAt(value, path);
  if ('stringValue' in any) {
    if (typeof any.stringValue !== 'string') throw new OtlpPayloadError(`${path}.stringValue`, 'must be a string');
    return any.stringValue;
  }
  if ('boolValue' in any) {
    if (typeof any.boolValue !== 'boolean') throw new OtlpPayloadError(`${path}.boolValue`, 'must be a boolean');
    return any.boolValue;
  }
  if ('intValue' in any) return intAt(any.intValue, `${path}.intValue`);
  if ('doubleValue' in any) return doubleAt(any.doubleValue, `${path}.doubleValue`);
  if ('bytesValue' in any) {
    const bytes = any.bytesValue;
    if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    if (typeof bytes !== 'string') throw new OtlpPayloadError(`${path}.bytesValue`, 'must be a base64 string');
    return bytes;
  }
  if ('arrayValue' in any) {
    const values = arrayAt(objectAt(any.arrayValue, `${path}.arrayValue`).values, `${path}.arrayValue.values`).map((v, i) => anyValueAt(v, `${path}.arrayValue.values[${i}]`));
    const scalars = values.filter((v): v is Scalar => v !== undefined && !Array.isArray(v));
    const kind = typeof scalars[0];
    if (scalars.length === values.length && scalars.every((v) => typeof v === kind)) return scalars as string[] | number[] | boolean[];
    return JSON.stringify(values);
  }
  if ('kvlistValue' in any) {
    const list = objectAt(any.kvlistValue, `${path}.kvlistValue`);
    return JSON.stringify(attributesAt(list.values, `${path}.kvlistValue.values`));
  }
  return undefined;
}

function intAt(value: unknown, path: string): number | string {
  let n: bigint;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) n = BigInt(value);
  else throw new OtlpPayloadError(path, 'must be a 64-bit integer, as a string or a number');
  if (n > 9_223_372_036_854_775_807n || n < -9_223_372_036_854_775_808n) throw new OtlpPayloadError(path, 'is out of the 64-bit integer range');
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

/** A double; proto3 JSON spells the non-finite ones as strings, which no attribute here can hold. */
function doubleAt(value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new OtlpPayloadError(path, 'must be a finite number');
}
