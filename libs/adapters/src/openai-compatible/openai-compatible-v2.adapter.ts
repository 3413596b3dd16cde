import {
  adapterError,
  chatResponseFromOpenAI,
  completionResponseFromOpenAI,
  createOpenAIChatStreamDecoder,
  createOpenAICompletionStreamDecoder,
  embeddingResponseFromOpenAI,
  errorKindFromOpenAI,
  isRecord,
  jsonOrUndefined,
  openAIChatRequestFromCanonical,
  openAICompletionRequestFromCanonical,
  openAIEmbeddingRequestFromCanonical,
  retryAfterMs,
  validateSettingsWith,
  type AdapterError,
  type BuiltUpstreamRequest,
  type ConnectionSettings,
  type SettingsError,
  type CallTarget,
  type CallWarning,
  type ErrorKind,
  type ProviderAdapterV2,
  type SettingField,
  type SettingsSchema,
  type UpstreamHeaders,
} from '#libs/adapter-sdk';

export interface OpenAICompatibleAdapterOptions {
  id: string;
  providerName: string;
  /** For a provider with one endpoint (OpenAI itself); without it the connection must name one. */
  defaultBaseUrl?: string;
  /** Whether a connection must have an API key (self-hosted vLLM or Ollama often need none). */
  apiKeyRequired: boolean;
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  /** Settings beyond the base URL and the key, sent as headers (OpenAI's organization and project). */
  headerSettings?: ReadonlyArray<{ name: string; header: string; description: string; pattern?: RegExp; example?: string }>;
  /** Whether the connection chooses how the key is sent (bearer, a header of its own, or not at all). */
  authModes?: boolean;
}

/** The OpenAI API's paths, appended to a base URL or mapped onto another layout (Azure's deployments). */
export type OpenAIWirePath = '/chat/completions' | '/completions' | '/embeddings';

/**
 * How one OpenAI-format call reaches its upstream: the URL, the headers (auth) and the body's final
 * touches. The codecs are the same for every server that speaks OpenAI's API; only this differs.
 */
export type OpenAIWireSend = (path: OpenAIWirePath, target: CallTarget, body: Record<string, unknown>, warnings: CallWarning[]) => Promise<BuiltUpstreamRequest>;

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers a custom auth header must not replace: the gateway sets them for every call. */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection']);

/** The key of targets without headers of their own in the headers cache. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}

/**
 * OpenAI's status codes and error codes into the taxonomy
 * (https://platform.openai.com/docs/guides/error-codes). The status decides where it is unambiguous;
 * a 400 is read further for the context-length and content-filter codes.
 */
export function mapOpenAIError(status: number, body: Uint8Array, headers: UpstreamHeaders): AdapterError {
  const parsed = jsonOrUndefined(body);
  const err = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
  const message = typeof err.message === 'string' ? err.message : `upstream answered HTTP ${status}`;
  let kind: ErrorKind;
  if (status === 401 || status === 403) kind = 'auth';
  else if (status === 429) kind = 'rate_limited';
  else if (status === 503 || status === 529) kind = 'overloaded';
  else if (status >= 500) kind = 'upstream_error';
  else {
    const fromBody = errorKindFromOpenAI(err);
    kind = fromBody === 'context_length' || fromBody === 'content_filter' ? fromBody : 'bad_request';
  }
  const error = adapterError(kind, message, { status, retryAfterMs: kind === 'rate_limited' || kind === 'overloaded' ? retryAfterMs(headers) : undefined });
  // OpenAI answers 429 for an exhausted quota too; waiting does not refill it.
  if (err.code === 'insufficient_quota' || err.type === 'insufficient_quota') return { ...error, retryable: false };
  return error;
}

/** The client's own OpenAI body, with the upstream's model name and, for a stream, the usage chunk asked for. */
function nativeOpenAIBody(body: Record<string, unknown>, model: string, streamUsage: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body, model };
  if (streamUsage && out.stream === true) out.stream_options = { ...(isRecord(out.stream_options) ? out.stream_options : {}), include_usage: true };
  return out;
}

/**
 * Chat, completions and embeddings in OpenAI's wire format, for any adapter whose upstream speaks it
 * (OpenAI, compatible servers, Azure OpenAI): canonical requests and the client's own bodies
 * (pass-through) go out through `send`, answers and streams come back through OpenAI's codecs.
 */
export function openAIWireOperations(options: { maxTokensField: 'max_tokens' | 'max_completion_tokens'; send: OpenAIWireSend }): Pick<ProviderAdapterV2, 'chat' | 'completion' | 'embedding'> {
  const { send, maxTokensField } = options;
  return {
    chat: {
      async buildRequest(req, target) {
        const { body, warnings } = openAIChatRequestFromCanonical(req, { model: target.upstreamModel, maxTokensField });
        return send('/chat/completions', target, body, warnings);
      },
      // Not async: send's own promise, not one resolved with it (two microtask turns more per call).
      buildNativeRequest: (body, target) => send('/chat/completions', target, nativeOpenAIBody(body, target.upstreamModel, true), []),
      parseResponse: chatResponseFromOpenAI,
      createStreamDecoder: createOpenAIChatStreamDecoder,
    },
    completion: {
      async buildRequest(req, target) {
        const { body, warnings } = openAICompletionRequestFromCanonical(req, { model: target.upstreamModel });
        return send('/completions', target, body, warnings);
      },
      buildNativeRequest: (body, target) => send('/completions', target, nativeOpenAIBody(body, target.upstreamModel, true), []),
      parseResponse: completionResponseFromOpenAI,
      createStreamDecoder: createOpenAICompletionStreamDecoder,
    },
    embedding: {
      async buildRequest(req, target) {
        const { body, warnings } = openAIEmbeddingRequestFromCanonical(req, { model: target.upstreamModel });
        return send('/embeddings', target, body, warnings);
      },
      // The client's encoding_format is kept: base64 passes through as it came.
      buildNativeRequest: (body, target) => send('/embeddings', target, nativeOpenAIBody(body, target.upstreamModel, false), []),
      parseResponse: embeddingResponseFromOpenAI,
    },
  };
}

/**
 * Any server that speaks OpenAI's API (vLLM, Ollama, LiteLLM, OpenAI itself): chat, completions and
 * embeddings. https://platform.openai.com/docs/api-reference/chat
 */
export function createOpenAICompatibleAdapter(options: OpenAICompatibleAdapterOptions): ProviderAdapterV2 {
  const headerSettings = options.headerSettings ?? [];
  const fields: SettingField[] = [
    {
      name: 'baseUrl',
      kind: 'setting',
      type: 'url',
      required: options.defaultBaseUrl === undefined,
      ...(options.defaultBaseUrl !== undefined ? { default: options.defaultBaseUrl } : {}),
      description: 'The API root the paths /chat/completions, /completions and /embeddings are appended to (e.g. http://vllm:8000/v1).',
    },
    {
      name: 'apiKey',
      kind: 'secret',
      type: 'string',
      required: options.apiKeyRequired,
      description: options.authModes ? 'Sent as authMode says: Authorization: Bearer <key> (default), or as the value of authHeader.' : 'Sent as Authorization: Bearer <key>.',
    },
    ...(options.authModes
      ? [
          {
            name: 'authMode',
            kind: 'setting',
            type: 'string',
            required: false,
            default: 'bearer',
            enum: ['bearer', 'header', 'none'],
            description: 'How apiKey is sent: bearer (Authorization: Bearer <key>), header (authHeader: <key>, e.g. X-API-Key), or none (no credentials).',
          } satisfies SettingField,
          { name: 'authHeader', kind: 'setting', type: 'string', required: false, description: 'With authMode header: the header the key is sent in, e.g. X-API-Key.' } satisfies SettingField,
        ]
      : []),
    ...headerSettings.map((h): SettingField => ({ name: h.name, kind: 'setting', type: 'string', required: false, description: h.description })),
  ];
  const settings: SettingsSchema = { fields };

  const check = ({ settings: s, secrets }: ConnectionSettings): SettingsError[] => {
    const errors: SettingsError[] = [];
    for (const h of headerSettings) {
      const v = s[h.name];
      if (h.pattern && typeof v === 'string' && !h.pattern.test(v)) errors.push({ field: h.name, message: `is not a valid value (expected e.g. ${h.example ?? h.pattern.source})` });
    }
    if (options.authModes) {
      const mode = s.authMode;
      const header = s.authHeader;
      if (mode === 'header') {
        if (typeof header !== 'string') errors.push({ field: 'authHeader', message: 'is required with authMode header (e.g. X-API-Key)' });
        else if (!HEADER_NAME.test(header)) errors.push({ field: 'authHeader', message: 'must be an HTTP header name (letters, digits and -), e.g. X-API-Key' });
        else if (RESERVED_HEADERS.has(header.toLowerCase())) errors.push({ field: 'authHeader', message: `cannot be ${header}: the gateway sets it itself` });
        if (!secrets.apiKey) errors.push({ field: 'apiKey', message: 'is required with authMode header' });
      } else if (header !== undefined) {
        errors.push({ field: 'authHeader', message: 'is only used with authMode header' });
      }
      if (mode === 'none' && secrets.apiKey) errors.push({ field: 'apiKey', message: 'must be left out with authMode none (nothing would send it)' });
    }
    return errors;
  };

  const buildHeaders = (target: CallTarget): Record<string, string> => {
    const headers: Record<string, string> = { ...target.headers, 'content-type': 'application/json' };
    const key = target.secrets.apiKey;
    if (key) {
      const mode = target.settings.authMode ?? 'bearer';
      if (mode === 'bearer') headers.authorization = `Bearer ${key}`;
      else if (mode === 'header' && typeof target.settings.authHeader === 'string') headers[target.settings.authHeader.toLowerCase()] = key;
    }
    for (const h of headerSettings) {
      const v = target.settings[h.name];
      if (typeof v === 'string' && v.length > 0) headers[h.header] = v;
    }
    return headers;
  };

  /**
   * A call's headers depend only on the target's headers, secrets and settings objects, which are
   * the same objects on every call of a connection with fixed credentials: one frozen object per
   * connection (undici only reads it) instead of a spread and a template per call.
   */
  const headerCache = new WeakMap<object, { secrets: object; settings: object; headers: Readonly<Record<string, string>> }>();
  const headersFor = (target: CallTarget): Readonly<Record<string, string>> => {
    const base = target.headers ?? NO_HEADERS;
    const cached = headerCache.get(base);
    if (cached !== undefined && cached.secrets === target.secrets && cached.settings === target.settings) return cached.headers;
    const headers = Object.freeze(buildHeaders(target));
    headerCache.set(base, { secrets: target.secrets, settings: target.settings, headers });
    return headers;
  };

  /** Each path's URL per base URL, joined once: the same string on every call, which the pools' lookup by URL hashes once. */
  const urls: Record<OpenAIWirePath, Map<string, string>> = { '/chat/completions': new Map(), '/completions': new Map(), '/embeddings': new Map() };
  const urlOf = (baseUrl: string, path: OpenAIWirePath): string => {
    const joined = urls[path];
    let url = joined.get(baseUrl);
    if (url === undefined) {
      url = joinUrl(baseUrl, path);
      if (joined.size >= 1024) joined.clear();
      joined.set(baseUrl, url);
    }
    return url;
  };

  const send: OpenAIWireSend = async (path, target, body, warnings) => {
    const baseUrl = target.baseUrl ?? (typeof target.settings.baseUrl === 'string' ? target.settings.baseUrl : options.defaultBaseUrl);
    if (baseUrl === undefined) throw new Error(`connection for adapter ${options.id} has no baseUrl`);
    return { request: { url: urlOf(baseUrl, path), method: 'POST', headers: headersFor(target), body: JSON.stringify(body) }, warnings };
  };

  return {
    specificationVersion: 'v2',
    id: options.id,
    providerName: options.providerName,
    nativeFormat: 'openai',
    settings,
    validateSettings: (input) => validateSettingsWith(settings, input, check),
    ...openAIWireOperations({ maxTokensField: options.maxTokensField, send }),
    mapError: mapOpenAIError,
  };
}

export const openAICompatibleAdapterV2 = createOpenAICompatibleAdapter({
  id: 'openai-compatible',
  providerName: 'openai',
  apiKeyRequired: false,
  // vLLM, Ollama and most compatible servers read only max_tokens.
  maxTokensField: 'max_tokens',
  authModes: true,
});

export const openAIAdapterV2 = createOpenAICompatibleAdapter({
  id: 'openai',
  providerName: 'openai',
  defaultBaseUrl: 'https://api.openai.com/v1',
  apiKeyRequired: true,
  // OpenAI's reasoning models refuse max_tokens.
  maxTokensField: 'max_completion_tokens',
  headerSettings: [
    // https://platform.openai.com/docs/api-reference/authentication: ids are org-... and proj_...
    { name: 'organization', header: 'openai-organization', description: 'OpenAI organization id (org-...), sent as OpenAI-Organization, for keys in several organizations.', pattern: /^org-[A-Za-z0-9]+$/, example: 'org-AbC123' },
    { name: 'project', header: 'openai-project', description: 'OpenAI project id (proj_...), sent as OpenAI-Project.', pattern: /^proj_[A-Za-z0-9]+$/, example: 'proj_AbC123' },
  ],
});

