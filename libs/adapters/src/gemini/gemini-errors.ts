import { adapterError, isRecord, jsonOrUndefined, retryAfterMs, type AdapterError, type ErrorKind, type UpstreamHeaders } from '#libs/adapter-sdk';

/**
 * Google's error body, `{"error": {"code": 429, "message": "…", "status": "RESOURCE_EXHAUSTED", "details": […]}}`
 * (https://ai.google.dev/gemini-api/docs/troubleshooting, https://cloud.google.com/apis/design/errors),
 * into the taxonomy. The canonical status name decides; the HTTP status where there is none.
 */

/** "Input token count (1048577) exceeds the maximum number of tokens allowed (1048576)." and its kin. */
const CONTEXT_LENGTH = /exceeds the maximum number of tokens|token count .*exceeds|too many tokens|context (?:window|length)|prompt is too long/i;
/** AI Studio answers a bad key with 400 INVALID_ARGUMENT, "API key not valid", reason API_KEY_INVALID. */
const BAD_KEY = /api key (?:not valid|expired|invalid)|API_KEY_INVALID|API_KEY_EXPIRED/i;

/** google.rpc.RetryInfo's retryDelay ("30s", "1.5s") in ms. */
function retryDelayMs(details: unknown): number | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    if (!isRecord(d) || typeof d['@type'] !== 'string' || !d['@type'].endsWith('google.rpc.RetryInfo')) continue;
    const m = typeof d.retryDelay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(d.retryDelay) : null;
    if (m) return Math.round(Number(m[1]) * 1000);
  }
  return undefined;
}

function reasons(details: unknown): string {
  if (!Array.isArray(details)) return '';
  return details.map((d) => (isRecord(d) && typeof d.reason === 'string' ? d.reason : '')).join(' ');
}

function kindOf(status: string | undefined, http: number, message: string, details: unknown): ErrorKind {
  if (BAD_KEY.test(message) || BAD_KEY.test(reasons(details))) return 'auth';
  switch (status) {
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
      return 'auth';
    case 'RESOURCE_EXHAUSTED':
      return 'rate_limited';
    case 'UNAVAILABLE':
      return 'overloaded';
    case 'INTERNAL':
    case 'DEADLINE_EXCEEDED':
    case 'UNKNOWN':
    case 'DATA_LOSS':
      return 'upstream_error';
    case 'INVALID_ARGUMENT':
    case 'FAILED_PRECONDITION':
    case 'OUT_OF_RANGE':
      return CONTEXT_LENGTH.test(message) ? 'context_length' : 'bad_request';
    case 'NOT_FOUND':
    case 'ALREADY_EXISTS':
    case 'ABORTED':
    case 'CANCELLED':
    case 'UNIMPLEMENTED':
      return 'bad_request';
  }
  if (http === 401 || http === 403) return 'auth';
  if (http === 429) return 'rate_limited';
  if (http === 503) return 'overloaded';
  if (http >= 500) return 'upstream_error';
  if (http >= 400) return CONTEXT_LENGTH.test(message) ? 'context_length' : 'bad_request';
  return 'upstream_error';
}

/** A parsed error body (also an `{"error": …}` event in a stream); `http` is 200 inside a stream. */
export function geminiErrorFromBody(parsed: unknown, http: number, headers: UpstreamHeaders): AdapterError {
  // Some Google front ends answer an array of one error.
  const body = Array.isArray(parsed) && parsed.length > 0 ? parsed[0] : parsed;
  const err = isRecord(body) && isRecord(body.error) ? body.error : {};
  const code = typeof err.code === 'number' ? err.code : http;
  const message = typeof err.message === 'string' && err.message !== '' ? err.message : `upstream answered HTTP ${code}`;
  const status = typeof err.status === 'string' ? err.status : undefined;
  const kind = kindOf(status, code, message, err.details);
  const retry = kind === 'rate_limited' || kind === 'overloaded' ? (retryDelayMs(err.details) ?? retryAfterMs(headers)) : undefined;
  return adapterError(kind, message, { ...(http >= 400 ? { status: http } : {}), retryAfterMs: retry });
}

/** An upstream's non-2xx answer, as the adapters' mapError. */
export function mapGeminiError(status: number, body: Uint8Array, headers: UpstreamHeaders): AdapterError {
  return geminiErrorFromBody(jsonOrUndefined(body), status, headers);
}
