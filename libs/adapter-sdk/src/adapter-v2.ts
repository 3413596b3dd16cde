import type { AdapterError, UpstreamRequest } from './adapter.js';
import type {
  CanonicalStreamPart,
  ChatRequest,
  ChatResponse,
  CompletionRequest,
  CompletionResponse,
  EmbeddingRequest,
  EmbeddingResponse,
  WireFormat,
} from './canonical.js';
import type { SseEvent } from './sse-event-splitter.js';
import type { ConnectionSettings, SettingsSchema, SettingsValidation, SettingValue } from './settings-schema.js';

/**
 * The provider-adapter contract, version v2. An adapter owns everything about its provider's wire
 * format: building the upstream request (with async auth), decoding the answer and the stream's
 * framing into canonical parts, usage, and errors into the taxonomy. It never touches the network
 * or the client's response: the gateway sends what `buildRequest` returns and feeds back what came.
 */
export const ADAPTER_SPECIFICATION_VERSION_V2 = 'v2';

/**
 * The HTTP function an adapter uses for any request of its own while building one (an OAuth token
 * fetch): WHATWG fetch's shape, so libraries that take a fetch implementation accept it. The gateway's
 * dials through the same guard as upstream calls (the host resolved and every answer checked
 * against UPSTREAM_ALLOWLIST at connect time, the socket opened to the checked address), follows no
 * redirect (a 3xx rejects), and times out. A refused address rejects with an error whose `cause`
 * chain holds the refusal: keep it as `cause` when wrapping, so the client is told why.
 */
export type UpstreamFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** Where and as whom to call: from the connection (settings, secrets) and the provider model. */
export interface CallTarget {
  /** The connection's base URL; an adapter with a fixed endpoint falls back to its own default. */
  baseUrl?: string;
  /** The model name the provider knows. */
  upstreamModel: string;
  /** The connection's validated settings (kind `setting`), defaults applied. */
  settings: Readonly<Record<string, SettingValue>>;
  /** The connection's secrets (kind `secret`), decrypted for this call only. */
  secrets: Readonly<Record<string, string>>;
  /** Extra headers the operator configured on the connection. */
  headers?: Readonly<Record<string, string>>;
  /**
   * The only way an adapter may reach the network itself (never the global fetch): the gateway
   * always sets it. Absent only in tests that build requests without a gateway.
   */
  fetch?: UpstreamFetch;
}

/** A request parameter the provider cannot honour, reported (response header, span), never dropped silently. */
export type CallWarning = { type: 'unsupported-setting'; setting: string; details?: string } | { type: 'other'; message: string };

export interface BuiltUpstreamRequest {
  request: UpstreamRequest;
  warnings: CallWarning[];
}

/** A decoded whole answer, or why it could not be decoded. Decoders never throw. */
export type Decoded<T> = { value: T } | { error: AdapterError };

/**
 * Decodes one upstream stream. It owns the framing (SSE, a JSON array, AWS event-stream): chunks may
 * be cut anywhere, even inside a UTF-8 character. It never throws; malformed input becomes an
 * `error` part, and `end()` reports a stream that stopped before its format's terminator.
 */
export interface StreamDecoder {
  push(chunk: Uint8Array): CanonicalStreamPart[];
  end(): CanonicalStreamPart[];
  /**
   * SSE-framed decoders only: reads one whole event that the caller split itself (SseEventSplitter),
   * so a pass-through relay that forwards each event's bytes splits the stream once, not twice.
   */
  pushEvent?(event: SseEvent): readonly CanonicalStreamPart[];
  /**
   * SSE-framed metering-only decoders (a pass-through relay): reads the whole events this chunk
   * completes in one pass over its bytes, parsing only those metering needs (the reader's markers
   * are searched once over the chunk, not event by event), and answers where they are. What is left
   * of an event not yet terminated is held for the next chunk. Use either this or push/pushEvent.
   */
  scanEvents?(chunk: Uint8Array): ScannedEvents;
  /**
   * After the last scanEvents: an event the upstream did not terminate (not blank), terminated with
   * a blank line and scanned as the last one; undefined when nothing is left.
   */
  scanRest?(): ScannedEvents | undefined;
}

/** One event scanEvents read: its place in the scanned bytes, its bytes and text, and its parts. */
export interface ScannedEvent extends SseEvent {
  start: number;
  end: number;
  /** Its position among the scan's whole events (0 = the first). */
  index: number;
  parts: readonly CanonicalStreamPart[];
}

/** What scanEvents read of one chunk. */
export interface ScannedEvents {
  /** The bytes scanned: what was held of an unfinished event, then the chunk. */
  bytes: Buffer;
  /** Where the whole events end in `bytes` (the rest is held for the next chunk). */
  end: number;
  /** Whole events in bytes[0, end). */
  events: number;
  /** The events that were read (those metering needs), in order; the others were not parsed. */
  read: ScannedEvent[];
}

export interface StreamDecoderOptions {
  /**
   * Only what metering needs (metadata, finish, usage, errors): content deltas are skipped without
   * being parsed where the framing allows. For the pass-through path, where bytes go to the client as they are.
   */
  meteringOnly?: boolean;
}

export type UpstreamHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What the pass-through path knows beside the body. */
export interface NativeRequestContext {
  /** The client's request headers: some formats carry options there (Anthropic's anthropic-beta and anthropic-version). */
  clientHeaders?: UpstreamHeaders;
}

/**
 * The pass-through path: when the client speaks the adapter's nativeFormat, its body goes upstream as
 * it came, with only the model replaced (and what metering needs, such as stream usage), so fields no
 * canonical shape knows (new block types, beta options) reach the provider. Absent = the gateway goes
 * through the canonical request.
 */
export interface NativeRequestBuilder {
  buildNativeRequest?(body: Record<string, unknown>, target: CallTarget, context?: NativeRequestContext): Promise<BuiltUpstreamRequest>;
}

export interface GenerationOperation<Req, Res> extends NativeRequestBuilder {
  buildRequest(request: Req, target: CallTarget): Promise<BuiltUpstreamRequest>;
  /**
   * The upstream's successful (2xx) body as received. `meteringOnly`: for the pass-through path, whose
   * bytes go to the client as they came: only the id, model, usage and finish reasons are needed, so
   * an adapter may leave the content unread (the choices' content is then empty).
   */
  parseResponse(body: Uint8Array, options?: { meteringOnly?: boolean }): Decoded<Res>;
  createStreamDecoder(options?: StreamDecoderOptions): StreamDecoder;
}

export type ChatOperation = GenerationOperation<ChatRequest, ChatResponse>;
export type CompletionOperation = GenerationOperation<CompletionRequest, CompletionResponse>;

export interface EmbeddingOperation extends NativeRequestBuilder {
  buildRequest(request: EmbeddingRequest, target: CallTarget): Promise<BuiltUpstreamRequest>;
  /**
   * `meteringOnly`: for the pass-through path, whose bytes go to the client as they came: only the
   * model and usage are needed, so the vectors may be left undecoded (`embeddings` is then empty).
   * `headers`: the answer's headers, for a provider that reports usage there (Bedrock's InvokeModel).
   */
  parseResponse(body: Uint8Array, options?: { meteringOnly?: boolean; headers?: UpstreamHeaders }): Decoded<EmbeddingResponse>;
}

/** The input-token count of a request the client wrote in the adapter's nativeFormat (Anthropic's count_tokens). */
export interface TokenCountOperation {
  buildNativeRequest(body: Record<string, unknown>, target: CallTarget, context?: NativeRequestContext): Promise<BuiltUpstreamRequest>;
  parseResponse(body: Uint8Array): Decoded<{ inputTokens: number }>;
}

export interface ProviderAdapterV2 {
  readonly specificationVersion: 'v2';
  readonly id: string;
  /** The generative-AI provider name put on spans (gen_ai.provider.name). */
  readonly providerName: string;
  /** The client format this adapter's upstream speaks byte for byte: equal formats pass through untouched. */
  readonly nativeFormat: WireFormat;
  /** The per-connection settings and secrets this adapter accepts. */
  readonly settings: SettingsSchema;
  /** For the vault: checks a connection's settings and secrets, applying defaults. */
  validateSettings(input: unknown): SettingsValidation;
  /**
   * For the vault: URLs the adapter will call that sit inside a setting's value rather than being
   * one (a service-account key file's token_uri), given the validated settings. The vault checks
   * each with the same address rules as baseUrl and `url` settings, refusing with 400 on `field`.
   * Absent = none.
   */
  embeddedUrls?(value: ConnectionSettings): EmbeddedUrl[];
  /** The operations this adapter serves; absent = not supported by this provider. */
  readonly chat?: ChatOperation;
  readonly completion?: CompletionOperation;
  readonly embedding?: EmbeddingOperation;
  /** Counts a request's input tokens at the provider; absent = the gateway estimates locally. */
  readonly countTokens?: TokenCountOperation;
  /** An upstream's non-2xx answer into the taxonomy. `body` as received (it may not be JSON). */
  mapError(status: number, body: Uint8Array, headers: UpstreamHeaders): AdapterError;
}

/** A URL an adapter calls found inside a setting's value. */
export interface EmbeddedUrl {
  /** The setting that holds it, as the client gives it (`serviceAccountJson`). */
  field: string;
  /** Where it is inside the value (`token_uri`). */
  name: string;
  url: string;
}

export type OperationName = 'chat' | 'completion' | 'embedding';

/** One warning as a line of text, for a response header, a span event or a log. */
export function warningText(w: CallWarning): string {
  if (w.type === 'other') return w.message;
  return w.details === undefined ? `${w.setting} is not supported by this provider` : `${w.setting} is not supported by this provider: ${w.details}`;
}
