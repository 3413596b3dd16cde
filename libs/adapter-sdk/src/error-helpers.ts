import type { AdapterError, ErrorKind } from './adapter.js';
import type { UpstreamHeaders } from './adapter-v2.js';
import type { CanonicalStreamPart } from './canonical.js';

/** Kinds a client may try again (after retryAfterMs when given); the others would fail the same way. */
const RETRYABLE: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['rate_limited', 'overloaded', 'upstream_error']);

export function adapterError(kind: ErrorKind, message: string, extra: { status?: number; retryAfterMs?: number } = {}): AdapterError {
  return {
    kind,
    message,
    retryable: RETRYABLE.has(kind),
    ...(extra.status !== undefined ? { status: extra.status } : {}),
    ...(extra.retryAfterMs !== undefined ? { retryAfterMs: extra.retryAfterMs } : {}),
  };
}

/** An error part for a stream that cannot be read further. */
export function streamError(message: string, kind: ErrorKind = 'upstream_error'): CanonicalStreamPart {
  return { type: 'error', error: adapterError(kind, message) };
}

function header(headers: UpstreamHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * How long the provider asks us to wait: `retry-after-ms` (OpenAI), else `retry-after` in seconds or
 * as an HTTP date (RFC 9110 §10.2.3). Undefined when absent or unreadable.
 */
export function retryAfterMs(headers: UpstreamHeaders, now: number = Date.now()): number | undefined {
  const ms = Number(header(headers, 'retry-after-ms'));
  if (header(headers, 'retry-after-ms') !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const value = header(headers, 'retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Parses a body as JSON; undefined when it is not JSON (an HTML page from a proxy, say). */
export function jsonOrUndefined(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The first characters of a body that is not what it should be, for an error message. */
export function bodySnippet(body: Uint8Array, max = 200): string {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A non-negative integer count, 0 for anything else (providers send null for "not applicable"). */
export const tokenCount = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);

/**
 * Thrown by an adapter's buildRequest when the call cannot be made for a reason the taxonomy names
 * (an OAuth grant the provider refused: auth), so the caller sees that kind rather than a build failure.
 */
export class AdapterCallError extends Error {
  constructor(readonly error: AdapterError) {
    super(error.message);
    this.name = 'AdapterCallError';
  }
}
