import { ERROR_TYPE_ATTRIBUTE, GatewayAttr, GenAiAttr, MODEL_CALL_OPERATIONS, type SpanAttributeValue } from './telemetry.js';

/**
 * How the common instrumentations name an LLM call's model, usage and text on a span, beside
 * OpenTelemetry's GenAI conventions, which come first wherever both are present:
 * - OpenTelemetry GenAI: https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/
 * - OpenInference (Arize Phoenix): https://github.com/Arize-ai/openinference/blob/main/spec/semantic_conventions.md
 * - Traceloop / OpenLLMetry: `gen_ai.usage.prompt_tokens`, `completion_tokens`, `llm.usage.total_tokens`,
 *   `llm.request.type`, indexed `gen_ai.prompt.N.content` / `gen_ai.completion.N.content`
 * - Langfuse's OTel attributes: `langfuse.observation.type`, `.model.name`, `.usage_details` (JSON), `.input`, `.output`
 * Both the OTLP intake (to forward only what metering reads) and metering (to price) use these.
 */
export const LlmSpanAttr = {
  openInferenceKind: 'openinference.span.kind',
  openInferenceModel: 'llm.model_name',
  traceloopRequestType: 'llm.request.type',
  traceloopTotalTokens: 'llm.usage.total_tokens',
  langfuseType: 'langfuse.observation.type',
  langfuseModel: 'langfuse.observation.model.name',
  langfuseUsage: 'langfuse.observation.usage_details',
} as const;

/** The token-count fields of a call, each with the attribute names that carry it, first found wins. */
export const USAGE_ATTRIBUTE_ALIASES = {
  input: [GenAiAttr.inputTokens, 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt'],
  output: [GenAiAttr.outputTokens, 'gen_ai.usage.completion_tokens', 'llm.token_count.completion'],
  cacheRead: [GenAiAttr.cacheReadTokens, 'gen_ai.usage.cache_read_input_tokens', 'llm.token_count.prompt_details.cache_read'],
  cacheWrite: [GenAiAttr.cacheCreationTokens, 'gen_ai.usage.cache_creation_input_tokens', 'llm.token_count.prompt_details.cache_write'],
  reasoning: [GenAiAttr.reasoningTokens, 'gen_ai.usage.reasoning_tokens', 'llm.token_count.completion_details.reasoning'],
} as const;

/** The model a call used: the response's first (the model that answered), then the request's. */
export const MODEL_ATTRIBUTE_ALIASES = [GenAiAttr.responseModel, GenAiAttr.requestModel, LlmSpanAttr.openInferenceModel, LlmSpanAttr.langfuseModel] as const;

/** Attributes holding a call's prompt (whole texts or JSON messages). */
export const INPUT_TEXT_ATTRIBUTES = ['gen_ai.input.messages', 'gen_ai.prompt', 'input.value', 'langfuse.observation.input'] as const;
/** Attributes holding a call's answer. */
export const OUTPUT_TEXT_ATTRIBUTES = ['gen_ai.output.messages', 'gen_ai.completion', 'output.value', 'langfuse.observation.output'] as const;
/** Flattened message lists (Traceloop's `gen_ai.prompt.0.content`, OpenInference's `llm.input_messages.0.message.content`). */
export const INPUT_TEXT_PATTERN = /^(?:gen_ai\.prompt\.\d+\.content|llm\.input_messages\.\d+\.message\.content)$/;
export const OUTPUT_TEXT_PATTERN = /^(?:gen_ai\.completion\.\d+\.content|llm\.output_messages\.\d+\.message\.content)$/;

const OPENINFERENCE_MODEL_KINDS = new Set(['LLM', 'EMBEDDING']);
const TRACELOOP_MODEL_TYPES = new Set(['chat', 'completion', 'embedding']);
const LANGFUSE_MODEL_TYPES = new Set(['generation', 'embedding']);

/**
 * True when the span is one call to a model, by the first convention it follows: its
 * gen_ai.operation.name (chat, text_completion, embeddings, generate_content; an agent, tool or
 * workflow operation is not), else OpenInference's span kind LLM or EMBEDDING, else Traceloop's
 * llm.request.type, else Langfuse's observation type generation. A span naming none of these is not
 * a call: grouping spans that repeat their children's usage are never priced again.
 */
export function isModelCallSpan(attributes: Readonly<Record<string, SpanAttributeValue>>): boolean {
  const operation = attributes[GenAiAttr.operationName];
  if (typeof operation === 'string') return MODEL_CALL_OPERATIONS.has(operation);
  const kind = attributes[LlmSpanAttr.openInferenceKind];
  if (typeof kind === 'string') return OPENINFERENCE_MODEL_KINDS.has(kind.toUpperCase());
  const type = attributes[LlmSpanAttr.traceloopRequestType];
  if (typeof type === 'string') return TRACELOOP_MODEL_TYPES.has(type);
  const observation = attributes[LlmSpanAttr.langfuseType];
  return typeof observation === 'string' && LANGFUSE_MODEL_TYPES.has(observation);
}

const ALL_USAGE_ATTRIBUTES: ReadonlySet<string> = new Set([...Object.values(USAGE_ATTRIBUTE_ALIASES).flat(), LlmSpanAttr.traceloopTotalTokens, LlmSpanAttr.langfuseUsage]);

/** True when the span carries a token count under any convention (then its text is not needed). */
export function hasUsageAttribute(attributes: Readonly<Record<string, SpanAttributeValue>>): boolean {
  for (const k in attributes) if (ALL_USAGE_ATTRIBUTES.has(k) || k.startsWith('gen_ai.usage.')) return true;
  return false;
}

export function isTextAttribute(name: string): 'input' | 'output' | null {
  if ((INPUT_TEXT_ATTRIBUTES as readonly string[]).includes(name) || INPUT_TEXT_PATTERN.test(name)) return 'input';
  if ((OUTPUT_TEXT_ATTRIBUTES as readonly string[]).includes(name) || OUTPUT_TEXT_PATTERN.test(name)) return 'output';
  return null;
}

/** The end user a call was made for, on an OTLP span (OpenTelemetry's user.id; enduser.id before it). */
export const END_USER_ATTRIBUTES = ['user.id', 'enduser.id'] as const;

const KEPT_ATTRIBUTES: ReadonlySet<string> = new Set([
  ...ALL_USAGE_ATTRIBUTES,
  ...MODEL_ATTRIBUTE_ALIASES,
  ...Object.values(LlmSpanAttr),
  GenAiAttr.operationName,
  GenAiAttr.providerName,
  GenAiAttr.responseId,
  GenAiAttr.finishReasons,
  GenAiAttr.streaming,
  'gen_ai.system',
  'gen_ai.request.service_tier',
  'gen_ai.openai.request.service_tier',
  ERROR_TYPE_ATTRIBUTE,
  ...END_USER_ATTRIBUTES,
]);

/**
 * The attributes of a model-call span that metering reads: the model, the usage, the kind of call
 * and its failure, and, only when no usage is given, the texts it estimates the usage from. An OTLP
 * span's other attributes (and the gateway's own, which an OTLP span may not claim) stay with the
 * sender: they would only make the durable stream's messages larger.
 */
export function meteringAttributes(attributes: Readonly<Record<string, SpanAttributeValue>>): Record<string, SpanAttributeValue> {
  const kept: Record<string, SpanAttributeValue> = {};
  const withText = !hasUsageAttribute(attributes);
  for (const name in attributes) {
    if (name === GatewayAttr.model || name === GatewayAttr.usageStatus || name === GatewayAttr.connectionId) continue;
    if (KEPT_ATTRIBUTES.has(name) || name.startsWith('gen_ai.usage.') || (withText && isTextAttribute(name))) kept[name] = attributes[name]!;
  }
  return kept;
}
