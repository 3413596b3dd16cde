import { adapterError, isRecord, jsonOrUndefined, retryAfterMs, type AdapterError, type ErrorKind, type UpstreamHeaders } from '#libs/adapter-sdk';

/**
 * Bedrock's errors (https://docs.aws.amazon.com/bedrock/latest/APIReference/CommonErrors.html and each
 * action's Errors): the type in the x-amzn-ErrorType header (`ThrottlingException:http://...`), the
 * text in the JSON body's `message` (`Message` for some). In an event stream the same types arrive
 * lower-camel-cased in the :exception-type header; the kind is the same.
 */

const AUTH = new Set([
  'accessdeniedexception',
  'unrecognizedclientexception',
  'invalidsignatureexception',
  'incompletesignatureexception',
  'missingauthenticationtokenexception',
  'expiredtokenexception',
  'invalidclienttokenidexception',
  'signaturedoesnotmatch',
]);

/** A validation error that says the input is over the model's window. */
const CONTEXT = /too long|context (window|length)|too many (input )?tokens|input is too large|maximum (input|context)|exceeds? the (max|limit)/i;

/** The kind for a Bedrock error type (any case, with or without the `:namespace` suffix), undefined when unknown. */
export function errorKindFromBedrock(type: string, message: string): ErrorKind | undefined {
  const t = type.split(':')[0]!.trim().toLowerCase();
  if (t === '') return undefined;
  if (AUTH.has(t)) return 'auth';
  switch (t) {
    case 'throttlingexception':
    case 'toomanyrequestsexception':
    case 'servicequotaexceededexception':
      return 'rate_limited';
    case 'serviceunavailableexception':
    case 'modelnotreadyexception':
      return 'overloaded';
    case 'validationexception':
      return CONTEXT.test(message) ? 'context_length' : 'bad_request';
    case 'resourcenotfoundexception':
    case 'conflictexception':
      return 'bad_request';
    case 'modeltimeoutexception':
    case 'modelerrorexception':
    case 'modelstreamerrorexception':
    case 'internalserverexception':
      return 'upstream_error';
    default:
      return undefined;
  }
}

function header(headers: UpstreamHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A non-2xx Bedrock answer into the taxonomy: its error type first, the HTTP status when there is none. */
export function mapBedrockError(status: number, body: Uint8Array, headers: UpstreamHeaders): AdapterError {
  const parsed = jsonOrUndefined(body);
  const record = isRecord(parsed) ? parsed : {};
  const text = typeof record.message === 'string' ? record.message : typeof record.Message === 'string' ? record.Message : undefined;
  const type = header(headers, 'x-amzn-errortype') ?? (typeof record.__type === 'string' ? record.__type.split('#').pop()! : '');
  const message = text ?? `upstream answered HTTP ${status}${type ? ` (${type.split(':')[0]})` : ''}`;
  let kind = errorKindFromBedrock(type, message);
  if (kind === undefined) {
    if (status === 401 || status === 403) kind = 'auth';
    else if (status === 429) kind = 'rate_limited';
    else if (status === 503) kind = 'overloaded';
    else kind = status >= 500 ? 'upstream_error' : 'bad_request';
  }
  return adapterError(kind, message, { status, retryAfterMs: kind === 'rate_limited' || kind === 'overloaded' ? retryAfterMs(headers) : undefined });
}
