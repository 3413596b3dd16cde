import type {
  AdapterError,
  AdapterTarget,
  BuiltRequest,
  CanonicalChatRequest,
  CanonicalUsage,
  ErrorKind,
  ParsedResponse,
  ProviderAdapter,
  StreamPart,
} from '#libs/adapter-sdk';

interface OpenAIUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  prompt_tokens_details?: { cached_tokens?: unknown } | null;
  completion_tokens_details?: { reasoning_tokens?: unknown } | null;
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);

/** OpenAI's usage object -> canonical usage. prompt_tokens includes cached tokens; completion_tokens includes reasoning. */
export function usageFromOpenAI(u: OpenAIUsage): CanonicalUsage {
  const input = count(u.prompt_tokens);
  const cacheRead = Math.min(count(u.prompt_tokens_details?.cached_tokens), input);
  const output = count(u.completion_tokens);
  const reasoning = Math.min(count(u.completion_tokens_details?.reasoning_tokens), output);
  return {
    input: { total: input, noCache: input - cacheRead, cacheRead, cacheWrite: 0 },
    output: { total: output, text: output - reasoning, reasoning },
    extra: {},
  };
}

function isUsage(v: unknown): v is OpenAIUsage {
  return typeof v === 'object' && v !== null && (typeof (v as OpenAIUsage).prompt_tokens === 'number' || typeof (v as OpenAIUsage).completion_tokens === 'number');
}

function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}

/**
 * Any server that speaks OpenAI's Chat Completions API (vLLM, Ollama, LiteLLM, OpenAI itself).
 * https://platform.openai.com/docs/api-reference/chat
 */
export const openAICompatibleAdapter: ProviderAdapter = {
  specificationVersion: 'v1',
  id: 'openai-compatible',
  providerName: 'openai',

  buildChatRequest(request: CanonicalChatRequest, target: AdapterTarget): BuiltRequest {
    const body: Record<string, unknown> = { ...request, model: target.upstreamModel };
    if (request.stream === true) {
      // Usage arrives only in a final chunk, and only when asked for: always ask, so every stream is metered.
      const options = typeof request.stream_options === 'object' && request.stream_options !== null ? request.stream_options : {};
      body.stream_options = { ...options, include_usage: true };
    }
    return {
      request: {
        url: joinUrl(target.baseUrl, '/chat/completions'),
        method: 'POST',
        headers: { ...target.headers, 'content-type': 'application/json', authorization: `Bearer ${target.apiKey}` },
        body: JSON.stringify(body),
      },
      warnings: [],
    };
  },

  parseChatResponse(body: unknown): ParsedResponse {
    if (typeof body !== 'object' || body === null) return { finishReasons: [] };
    const b = body as { id?: unknown; model?: unknown; usage?: unknown; choices?: unknown };
    const choices = Array.isArray(b.choices) ? (b.choices as { finish_reason?: unknown }[]) : [];
    return {
      id: typeof b.id === 'string' ? b.id : undefined,
      model: typeof b.model === 'string' ? b.model : undefined,
      usage: isUsage(b.usage) ? usageFromOpenAI(b.usage) : undefined,
      finishReasons: choices.map((c) => c?.finish_reason).filter((r): r is string => typeof r === 'string'),
    };
  },

  parseStreamEvent(data: string): StreamPart[] {
    if (data === '[DONE]') return [];
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return [{ type: 'error', error: { kind: 'upstream_error', message: 'upstream sent a stream event that is not JSON', retryable: false } }];
    }
    if (typeof chunk !== 'object' || chunk === null) {
      return [{ type: 'error', error: { kind: 'upstream_error', message: 'upstream sent a stream event that is not an object', retryable: false } }];
    }
    const c = chunk as { id?: unknown; model?: unknown; choices?: unknown; usage?: unknown; error?: { message?: unknown } };
    if (c.error) {
      return [{ type: 'error', error: { kind: 'upstream_error', message: typeof c.error.message === 'string' ? c.error.message : 'upstream stream error', retryable: false } }];
    }
    const parts: StreamPart[] = [];
    if (typeof c.id === 'string' || typeof c.model === 'string') {
      parts.push({ type: 'response-metadata', id: typeof c.id === 'string' ? c.id : undefined, model: typeof c.model === 'string' ? c.model : undefined });
    }
    if (Array.isArray(c.choices)) {
      for (const choice of c.choices as { delta?: { content?: unknown }; finish_reason?: unknown }[]) {
        if (typeof choice?.delta?.content === 'string' && choice.delta.content.length > 0) parts.push({ type: 'text-delta', text: choice.delta.content });
        if (typeof choice?.finish_reason === 'string') parts.push({ type: 'finish', reason: choice.finish_reason });
      }
    }
    if (isUsage(c.usage)) parts.push({ type: 'usage', usage: usageFromOpenAI(c.usage) });
    return parts;
  },

  mapError(status: number, body: unknown, headers): AdapterError {
    const err = (typeof body === 'object' && body !== null ? (body as { error?: { message?: unknown; code?: unknown; type?: unknown } }).error : undefined) ?? {};
    const message = typeof err.message === 'string' ? err.message : `upstream answered HTTP ${status}`;
    const code = typeof err.code === 'string' ? err.code : '';
    let kind: ErrorKind;
    if (status === 401 || status === 403) kind = 'auth';
    else if (status === 429) kind = 'rate_limited';
    else if (code === 'context_length_exceeded') kind = 'context_length';
    else if (code === 'content_filter' || code === 'content_policy_violation') kind = 'content_filter';
    else if (status === 503 || status === 529) kind = 'overloaded';
    else if (status >= 400 && status < 500) kind = 'bad_request';
    else kind = 'upstream_error';
    const retryAfter = headers['retry-after'];
    const seconds = typeof retryAfter === 'string' ? Number(retryAfter) : NaN;
    return {
      kind,
      message,
      status,
      retryable: kind === 'rate_limited' || kind === 'overloaded' || kind === 'upstream_error',
      ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {}),
    };
  },
};
