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
} as const;
