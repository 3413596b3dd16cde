/**
 * The provider-adapter contract, version v1 (v2 is in adapter-v2.ts). An adapter translates between
 * the gateway's canonical (OpenAI-shaped) request and one provider's wire format, and back. Built-in
 * and third-party adapters are loaded by the same AdapterRegistry. The types below that v2 shares
 * (CanonicalUsage, ErrorKind, AdapterError, UpstreamRequest) stay here until v1 goes.
 */
export const ADAPTER_SPECIFICATION_VERSION = 'v1';
/** The loader accepts the current contract version (v2) and the one before it. */
export const SUPPORTED_SPECIFICATION_VERSIONS: readonly string[] = ['v2', 'v1'];

/** Where and how to call the provider: from the connection and the provider model. */
export interface AdapterTarget {
  baseUrl: string;
  apiKey: string;
  headers: Readonly<Record<string, string>>;
  upstreamModel: string;
}

export interface UpstreamRequest {
  /** Absolute URL. */
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
}

export interface BuiltRequest {
  request: UpstreamRequest;
  /** Parameters the provider cannot honour: reported, never silently dropped. */
  warnings: string[];
}

/** Canonical usage (STYLE.md): totals and their parts; pricing keys map from these. */
export interface CanonicalUsage {
  input: { total: number; noCache: number; cacheRead: number; cacheWrite: number };
  output: { total: number; text: number; reasoning: number };
  extra: Record<string, number>;
}

export type ErrorKind = 'auth' | 'rate_limited' | 'context_length' | 'content_filter' | 'overloaded' | 'bad_request' | 'upstream_error';

export interface AdapterError {
  kind: ErrorKind;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
  status?: number;
}

export type StreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-delta'; index: number; id?: string; name?: string; argumentsDelta?: string }
  | { type: 'usage'; usage: CanonicalUsage }
  | { type: 'response-metadata'; id?: string; model?: string }
  | { type: 'finish'; reason: string }
  | { type: 'error'; error: AdapterError };

export interface ParsedResponse {
  id?: string;
  model?: string;
  usage?: CanonicalUsage;
  finishReasons: string[];
}

/** A chat request in the canonical shape: OpenAI's chat.completions body as the client sent it. */
export type CanonicalChatRequest = Record<string, unknown> & { model: string; stream?: boolean };

export interface ProviderAdapter {
  readonly specificationVersion: string;
  readonly id: string;
  /** The generative-AI provider name put on spans (gen_ai.provider.name). */
  readonly providerName: string;
  buildChatRequest(request: CanonicalChatRequest, target: AdapterTarget): BuiltRequest;
  parseChatResponse(body: unknown): ParsedResponse;
  /** One SSE event's data (without the `data: ` prefix). Never throws: bad input is an error part. */
  parseStreamEvent(data: string): StreamPart[];
  mapError(status: number, body: unknown, headers: Readonly<Record<string, string | string[] | undefined>>): AdapterError;
}
