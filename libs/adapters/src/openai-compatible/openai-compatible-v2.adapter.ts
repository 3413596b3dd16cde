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
  validateSettings,
  type AdapterError,
  type BuiltUpstreamRequest,
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
  headerSettings?: ReadonlyArray<{ name: string; header: string; description: string }>;
}

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

/**
 * Any server that speaks OpenAI's API (vLLM, Ollama, LiteLLM, OpenAI itself): chat, completions and
 * embeddings. https://platform.openai.com/docs/api-reference/chat
 */
export function createOpenAICompatibleAdapter(options: OpenAICompatibleAdapterOptions): ProviderAdapterV2 {
  const fields: SettingField[] = [
    {
      name: 'baseUrl',
      kind: 'setting',
      type: 'url',
      required: options.defaultBaseUrl === undefined,
      ...(options.defaultBaseUrl !== undefined ? { default: options.defaultBaseUrl } : {}),
      description: 'The API root the paths /chat/completions, /completions and /embeddings are appended to (e.g. http://vllm:8000/v1).',
    },
    { name: 'apiKey', kind: 'secret', type: 'string', required: options.apiKeyRequired, description: 'Sent as Authorization: Bearer <key>.' },
    ...(options.headerSettings ?? []).map((h): SettingField => ({ name: h.name, kind: 'setting', type: 'string', required: false, description: h.description })),
  ];
  const settings: SettingsSchema = { fields };

  const request = async (path: string, target: CallTarget, body: Record<string, unknown>, warnings: CallWarning[]): Promise<BuiltUpstreamRequest> => {
    const baseUrl = target.baseUrl ?? (typeof target.settings.baseUrl === 'string' ? target.settings.baseUrl : options.defaultBaseUrl);
    if (baseUrl === undefined) throw new Error(`connection for adapter ${options.id} has no baseUrl`);
    const headers: Record<string, string> = { ...target.headers, 'content-type': 'application/json' };
    if (target.secrets.apiKey) headers.authorization = `Bearer ${target.secrets.apiKey}`;
    for (const h of options.headerSettings ?? []) {
      const v = target.settings[h.name];
      if (typeof v === 'string' && v.length > 0) headers[h.header] = v;
    }
    return { request: { url: joinUrl(baseUrl, path), method: 'POST', headers, body: JSON.stringify(body) }, warnings };
  };

  /** The client's own OpenAI body, with the upstream's model name and, for a stream, the usage chunk asked for. */
  const native = (body: Record<string, unknown>, target: CallTarget, streamUsage: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...body, model: target.upstreamModel };
    if (streamUsage && out.stream === true) out.stream_options = { ...(isRecord(out.stream_options) ? out.stream_options : {}), include_usage: true };
    return out;
  };

  return {
    specificationVersion: 'v2',
    id: options.id,
    providerName: options.providerName,
    nativeFormat: 'openai',
    settings,
    validateSettings: (input) => validateSettings(settings, input),
    chat: {
      async buildRequest(req, target) {
        const { body, warnings } = openAIChatRequestFromCanonical(req, { model: target.upstreamModel, maxTokensField: options.maxTokensField });
        return request('/chat/completions', target, body, warnings);
      },
      buildNativeRequest: async (body, target) => request('/chat/completions', target, native(body, target, true), []),
      parseResponse: chatResponseFromOpenAI,
      createStreamDecoder: createOpenAIChatStreamDecoder,
    },
    completion: {
      async buildRequest(req, target) {
        const { body, warnings } = openAICompletionRequestFromCanonical(req, { model: target.upstreamModel });
        return request('/completions', target, body, warnings);
      },
      buildNativeRequest: async (body, target) => request('/completions', target, native(body, target, true), []),
      parseResponse: completionResponseFromOpenAI,
      createStreamDecoder: createOpenAICompletionStreamDecoder,
    },
    embedding: {
      async buildRequest(req, target) {
        const { body, warnings } = openAIEmbeddingRequestFromCanonical(req, { model: target.upstreamModel });
        return request('/embeddings', target, body, warnings);
      },
      // The client's encoding_format is kept: base64 passes through as it came.
      buildNativeRequest: async (body, target) => request('/embeddings', target, native(body, target, false), []),
      parseResponse: embeddingResponseFromOpenAI,
    },
    mapError: mapOpenAIError,
  };
}

export const openAICompatibleAdapterV2 = createOpenAICompatibleAdapter({
  id: 'openai-compatible',
  providerName: 'openai',
  apiKeyRequired: false,
  // vLLM, Ollama and most compatible servers read only max_tokens.
  maxTokensField: 'max_tokens',
});

export const openAIAdapterV2 = createOpenAICompatibleAdapter({
  id: 'openai',
  providerName: 'openai',
  defaultBaseUrl: 'https://api.openai.com/v1',
  apiKeyRequired: true,
  // OpenAI's reasoning models refuse max_tokens.
  maxTokensField: 'max_completion_tokens',
  headerSettings: [
    { name: 'organization', header: 'openai-organization', description: 'OpenAI organization id (org-...), for keys in several organizations.' },
    { name: 'project', header: 'openai-project', description: 'OpenAI project id (proj_...).' },
  ],
});

