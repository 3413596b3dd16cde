/** Attribute values as OTLP carries them, flattened to JSON. */
export type SpanAttributeValue = string | number | boolean | string[] | number[] | boolean[];

/** One finished span as it travels on the bus from the gateway (or OTLP intake) to metering. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  /** Unix epoch nanoseconds as a decimal string (exceeds Number.MAX_SAFE_INTEGER). */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
  attributes: Record<string, SpanAttributeValue>;
  /** Who the span belongs to: set by whoever accepted it (the gateway key's tenant). */
  organisationId: string;
  projectId: string | null;
  /** The gateway key that made the call, when known. */
  keyId: string | null;
  source: 'gateway' | 'otlp';
}

export interface SpanBatch {
  /** Stable id of the batch; JetStream de-duplicates on it. */
  batchId: string;
  spans: SpanRecord[];
}

/** OpenTelemetry GenAI semantic-convention attribute names used across services. */
export const GenAiAttr = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  cacheCreationTokens: 'gen_ai.usage.cache_creation.input_tokens',
  reasoningTokens: 'gen_ai.usage.reasoning.output_tokens',
  finishReasons: 'gen_ai.response.finish_reasons',
  streaming: 'gen_ai.request.stream',
  /** The prompt texts (the semantic conventions' older attribute; metering estimates usage from it when no counts came). */
  prompt: 'gen_ai.prompt',
  completion: 'gen_ai.completion',
} as const;

/**
 * The operations (gen_ai.operation.name) that are one call to a model, so a usage record each.
 * Agent, workflow and tool spans (invoke_agent, execute_tool, ...) may repeat their children's
 * usage and are never recorded. https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/
 */
export const MODEL_CALL_OPERATIONS: ReadonlySet<string> = new Set(['chat', 'text_completion', 'embeddings', 'generate_content']);

/**
 * What the gateway's span of one /v1 call carries beyond the GenAI attributes, so that metering
 * stores a record of every call the gateway answered, including one whose usage it could not read
 * (issue 12 item 7).
 *
 * The contract, for every span that records one call the gateway answered after resolving its model
 * (chat, completion, embedding, messages, in any client format; successful or failed):
 * - `source` is 'gateway' (CallSpan sets it; an OTLP span can never claim it, whatever its attributes);
 * - gen_ai.operation.name is one of MODEL_CALL_OPERATIONS (chat, text_completion, embeddings, generate_content);
 * - `gateway.model` is the gateway model name the caller asked for (non-empty);
 * - `gateway.usage.status` says what became of the usage (UsageStatus): 'reported' when the usage
 *   was read in full, 'partial' when the stream was cut short (client gone, upstream failure) and the
 *   gen_ai.usage.* attributes hold the usage seen so far, 'missing' when no usage could be read;
 * - gen_ai.usage.* hold the usage whenever any was read (metering prices these, not the status);
 * - a stream cut short before any usage carries the prompt (gen_ai.prompt, string[]) and the text
 *   streamed so far (gen_ai.completion) or the count of content events passed through
 *   (`gateway.stream.content_events`): metering estimates its usage from them and marks it estimated;
 * - a failed call has status error and `error.type` its kind (the error taxonomy: auth, rate_limited, ...).
 * A span that only groups other call spans (e.g. the attempts of a failover) must not carry
 * `gateway.model` with a model-call operation, or metering would count the call twice.
 *
 * Metering stores such a span with the usage it carries, or as usage-missing (no cost, never $0)
 * when it carries none. Spans from other producers that carry no gen_ai.usage.* are not stored.
 * isGatewayCallSpan is the rule; the gateway's tests can assert their spans satisfy it.
 */
export const GatewayAttr = {
  model: 'gateway.model',
  connectionId: 'gateway.connection_id',
  usageStatus: 'gateway.usage.status',
  /**
   * A stream cut short before its usage came (status 'partial', no gen_ai.usage.*): how many content
   * events reached the client when the gateway passed them through unparsed. Metering estimates the
   * output as at least one token per event (with gen_ai.prompt and gen_ai.completion, the texts the
   * gateway saw, it estimates the rest).
   */
  streamedContentEvents: 'gateway.stream.content_events',
  /** The model that served the call: `gateway.model`, or the fallback model failover reached (issue 15). */
  servedModel: 'gateway.served_model',
  /** The connection's name that served the call (its id is gateway.connection_id). */
  connectionName: 'gateway.connection_name',
  /** Upstream attempts of the call, retries and failover included. */
  attempts: 'gateway.attempts',
  /** The end user the caller made the call for (OpenAI's `user`, Anthropic's `metadata.user_id`), as sent. */
  user: 'gateway.user',
} as const;

export const USAGE_STATUSES = ['reported', 'partial', 'missing'] as const;
/** What a call's usage record knows of its usage; see GatewayAttr. */
export type UsageStatus = (typeof USAGE_STATUSES)[number];

/** OpenTelemetry's attribute for the kind of a failure (https://opentelemetry.io/docs/specs/semconv/attributes-registry/error/). */
export const ERROR_TYPE_ATTRIBUTE = 'error.type';

/** True when the span records one call the gateway answered (see GatewayAttr), so it must be stored, usage or not. */
export function isGatewayCallSpan(span: Pick<SpanRecord, 'source' | 'attributes'>): boolean {
  if (span.source !== 'gateway') return false;
  const attributes = span.attributes ?? {};
  const operation = attributes[GenAiAttr.operationName];
  const model = attributes[GatewayAttr.model];
  return typeof operation === 'string' && MODEL_CALL_OPERATIONS.has(operation) && typeof model === 'string' && model.length > 0;
}
