import {
  adapterError,
  anthropicMessagesRequestFromCanonical,
  chatResponseFromAnthropic,
  createAnthropicMessagesStreamDecoder,
  errorKindFromAnthropic,
  isRecord,
  jsonOrUndefined,
  retryAfterMs,
  validateSettings,
  type AdapterError,
  type CallTarget,
  type ErrorKind,
  type ProviderAdapterV2,
  type SettingsSchema,
  type UpstreamHeaders,
} from '#libs/adapter-sdk';

const settings: SettingsSchema = {
  fields: [
    { name: 'apiKey', kind: 'secret', type: 'string', required: true, description: 'Anthropic API key (sk-ant-...), sent as x-api-key.' },
    { name: 'baseUrl', kind: 'setting', type: 'url', required: false, default: 'https://api.anthropic.com', description: 'API root; /v1/messages is appended.' },
    {
      name: 'anthropicVersion',
      kind: 'setting',
      type: 'string',
      required: false,
      default: '2023-06-01',
      description: 'The anthropic-version header (https://docs.anthropic.com/en/api/versioning).',
    },
    { name: 'anthropicBeta', kind: 'setting', type: 'string', required: false, description: 'anthropic-beta header: comma-separated beta feature names.' },
    {
      name: 'defaultMaxTokens',
      kind: 'setting',
      type: 'integer',
      required: false,
      default: 4096,
      description: 'max_tokens sent when the client gave none (Anthropic requires it; OpenAI clients often omit it).',
    },
  ],
};

/** https://docs.anthropic.com/en/api/errors: the HTTP status decides where it is unambiguous, the error type otherwise. */
export function mapAnthropicError(status: number, body: Uint8Array, headers: UpstreamHeaders): AdapterError {
  const parsed = jsonOrUndefined(body);
  const err = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
  const message = typeof err.message === 'string' ? err.message : `upstream answered HTTP ${status}`;
  let kind: ErrorKind;
  if (status === 401 || status === 403) kind = 'auth';
  else if (status === 429) kind = 'rate_limited';
  else if (status === 529 || status === 503) kind = 'overloaded';
  else if (typeof err.type === 'string') kind = errorKindFromAnthropic(err.type, message);
  else kind = status >= 500 ? 'upstream_error' : 'bad_request';
  return adapterError(kind, message, { status, retryAfterMs: kind === 'rate_limited' || kind === 'overloaded' ? retryAfterMs(headers) : undefined });
}

function messagesUrl(baseUrl: string): string {
  const root = baseUrl.replace(/\/+$/, '');
  // Accept a base URL given with or without the version segment.
  return root.endsWith('/v1') ? `${root}/messages` : `${root}/v1/messages`;
}

function headerValue(headers: UpstreamHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Headers for one call. A pass-through client's anthropic-version wins (its body is written for it)
 * and its anthropic-beta features join the connection's (Claude Code sends several).
 */
function anthropicHeaders(target: CallTarget, clientHeaders?: UpstreamHeaders): Record<string, string> {
  const s = target.settings;
  const headers: Record<string, string> = {
    ...target.headers,
    'content-type': 'application/json',
    'anthropic-version': headerValue(clientHeaders, 'anthropic-version') ?? (typeof s.anthropicVersion === 'string' ? s.anthropicVersion : '2023-06-01'),
    'x-api-key': target.secrets.apiKey ?? '',
  };
  const betas = [typeof s.anthropicBeta === 'string' ? s.anthropicBeta : '', headerValue(clientHeaders, 'anthropic-beta') ?? '']
    .flatMap((b) => b.split(','))
    .map((b) => b.trim())
    .filter((b, i, all) => b.length > 0 && all.indexOf(b) === i);
  if (betas.length > 0) headers['anthropic-beta'] = betas.join(',');
  return headers;
}

function baseUrlOf(target: CallTarget): string {
  return target.baseUrl ?? (typeof target.settings.baseUrl === 'string' ? target.settings.baseUrl : 'https://api.anthropic.com');
}

/** Anthropic's Messages API (https://docs.anthropic.com/en/api/messages), outbound: chat only. */
export const anthropicAdapter: ProviderAdapterV2 = {
  specificationVersion: 'v2',
  id: 'anthropic',
  providerName: 'anthropic',
  nativeFormat: 'anthropic',
  settings,
  validateSettings: (input) => validateSettings(settings, input),
  chat: {
    async buildRequest(req, target) {
      const s = target.settings;
      const defaultMaxTokens = typeof s.defaultMaxTokens === 'number' ? s.defaultMaxTokens : 4096;
      const { body, warnings } = anthropicMessagesRequestFromCanonical(req, { model: target.upstreamModel, defaultMaxTokens });
      return { request: { url: messagesUrl(baseUrlOf(target)), method: 'POST', headers: anthropicHeaders(target), body: JSON.stringify(body) }, warnings };
    },
    // Anthropic to Anthropic: the client's body as it came (cache_control, thinking, server tools, betas).
    async buildNativeRequest(body, target, context) {
      return {
        request: { url: messagesUrl(baseUrlOf(target)), method: 'POST', headers: anthropicHeaders(target, context?.clientHeaders), body: JSON.stringify({ ...body, model: target.upstreamModel }) },
        warnings: [],
      };
    },
    parseResponse: chatResponseFromAnthropic,
    createStreamDecoder: createAnthropicMessagesStreamDecoder,
  },
  // https://docs.anthropic.com/en/api/messages-count-tokens: the client's body as it came, free of charge upstream.
  countTokens: {
    async buildNativeRequest(body, target, context) {
      return {
        request: { url: `${messagesUrl(baseUrlOf(target))}/count_tokens`, method: 'POST', headers: anthropicHeaders(target, context?.clientHeaders), body: JSON.stringify({ ...body, model: target.upstreamModel }) },
        warnings: [],
      };
    },
    parseResponse(body) {
      const parsed = jsonOrUndefined(body);
      if (isRecord(parsed) && typeof parsed.input_tokens === 'number' && Number.isInteger(parsed.input_tokens) && parsed.input_tokens >= 0) return { value: { inputTokens: parsed.input_tokens } };
      return { error: adapterError('upstream_error', 'the upstream answered a malformed token count') };
    },
  },
  mapError: mapAnthropicError,
};

