import type { AdapterError, CanonicalUsage } from './adapter.js';

/**
 * The provider-neutral shapes of contract v2: what a client asked for, whatever format it spoke,
 * and what a provider answered, whatever format it speaks. Modelled on the Vercel AI SDK's
 * LanguageModelV2 prompt. Nothing here is OpenAI- or Anthropic-shaped; what only one format can
 * say travels in `providerOptions`, keyed by that format, so the codec of the same format can
 * restore it and every other one can report it as a warning.
 */

/** A client or provider wire format. The gateway passes bytes through when the client's equals the adapter's. */
export type WireFormat = 'openai' | 'anthropic' | (string & {});

/** Format-specific fields, keyed by wire format: `{ anthropic: { cache_control: { type: 'ephemeral' } } }`. */
export type ProviderOptions = Record<string, Record<string, unknown>>;

export interface TextPart {
  type: 'text';
  text: string;
  providerOptions?: ProviderOptions;
}

export type ImageSource = { type: 'url'; url: string } | { type: 'base64'; mediaType: string; data: string };

export interface ImagePart {
  type: 'image';
  source: ImageSource;
  /** OpenAI's image detail; other providers ignore it. */
  detail?: 'auto' | 'low' | 'high';
  providerOptions?: ProviderOptions;
}

export interface ToolCallPart {
  type: 'tool-call';
  toolCallId: string;
  toolName: string;
  /** The arguments as JSON text, exactly as the model produced them (they may not be valid JSON). */
  input: string;
  providerOptions?: ProviderOptions;
}

export interface ToolResultPart {
  type: 'tool-result';
  toolCallId: string;
  content: Array<TextPart | ImagePart>;
  isError?: boolean;
  providerOptions?: ProviderOptions;
}

/** Reasoning ("thinking") the model showed; Anthropic signs it and needs the signature back. */
export interface ReasoningPart {
  type: 'reasoning';
  text: string;
  signature?: string;
  providerOptions?: ProviderOptions;
}

/** Reasoning the provider returned encrypted (Anthropic's redacted_thinking): only sent back. */
export interface RedactedReasoningPart {
  type: 'redacted-reasoning';
  data: string;
  providerOptions?: ProviderOptions;
}

export type UserContentPart = TextPart | ImagePart;
export type AssistantContentPart = TextPart | ReasoningPart | RedactedReasoningPart | ToolCallPart;

export type ChatMessage =
  | { role: 'system'; content: TextPart[]; providerOptions?: ProviderOptions }
  | { role: 'user'; content: UserContentPart[]; providerOptions?: ProviderOptions }
  | { role: 'assistant'; content: AssistantContentPart[]; providerOptions?: ProviderOptions }
  | { role: 'tool'; content: ToolResultPart[]; providerOptions?: ProviderOptions };

export interface FunctionTool {
  type: 'function';
  name: string;
  description?: string;
  /** A JSON Schema object. */
  inputSchema: Record<string, unknown>;
  strict?: boolean;
  providerOptions?: ProviderOptions;
}

export type ToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; toolName: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json' }
  | { type: 'json-schema'; name?: string; description?: string; schema: Record<string, unknown>; strict?: boolean };

/** Parameters shared by every generation call. Absent = the provider's default. */
export interface GenerationSettings {
  temperature?: number;
  topP?: number;
  topK?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Number of alternative answers (OpenAI's n). */
  choices?: number;
  /** An end-user id for the provider's abuse monitoring. */
  user?: string;
}

export interface ChatRequest extends GenerationSettings {
  /** The model the client named (the gateway's model name, not the upstream's). */
  model: string;
  /** In order; system messages may appear anywhere (a format that has only a leading system prompt reports the others). */
  messages: ChatMessage[];
  tools?: FunctionTool[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  /** Reasoning effort (OpenAI) and/or a thinking budget in tokens (Anthropic). */
  reasoning?: { effort?: 'minimal' | 'low' | 'medium' | 'high'; budgetTokens?: number };
  stream: boolean;
  /** Whether the client wants usage in the stream (OpenAI's stream_options.include_usage); adapters always ask their upstream. */
  includeUsage: boolean;
  providerOptions?: ProviderOptions;
}

/** Why a choice ended, the same in every format; the provider's own word is kept beside it. */
export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'error' | 'other';

export interface ChatChoice {
  index: number;
  content: AssistantContentPart[];
  finishReason: FinishReason;
  /** The provider's own reason (`end_turn`, `stop_sequence`, `tool_calls`...). */
  rawFinishReason?: string;
  /** The stop sequence that ended it, when the provider says which. */
  stopSequence?: string;
}

export interface ChatResponse {
  id?: string;
  /** The model the provider says answered. */
  model?: string;
  /** Unix seconds, when the provider says. */
  created?: number;
  choices: ChatChoice[];
  usage?: CanonicalUsage;
}

export interface CompletionRequest extends GenerationSettings {
  model: string;
  prompt: string | string[];
  stream: boolean;
  includeUsage: boolean;
  providerOptions?: ProviderOptions;
}

export interface CompletionResponse {
  id?: string;
  model?: string;
  created?: number;
  choices: Array<{ index: number; text: string; finishReason: FinishReason; rawFinishReason?: string }>;
  usage?: CanonicalUsage;
}

export interface EmbeddingRequest {
  model: string;
  input: string[];
  dimensions?: number;
  user?: string;
  providerOptions?: ProviderOptions;
}

export interface EmbeddingResponse {
  model?: string;
  /** One vector per input, in input order. */
  embeddings: number[][];
  usage?: CanonicalUsage;
}

/**
 * What a stream decoder yields, whatever the provider's framing. `choice` is the alternative's index
 * (0 unless the client asked for several). Tool calls are numbered per choice from 0 in the order they
 * start. Usage parts carry the totals so far: the last one is the call's usage.
 */
export type CanonicalStreamPart =
  | { type: 'response-metadata'; id?: string; model?: string; created?: number }
  | { type: 'text-delta'; choice: number; text: string }
  | { type: 'reasoning-delta'; choice: number; text: string }
  | { type: 'reasoning-signature'; choice: number; signature: string }
  | { type: 'redacted-reasoning'; choice: number; data: string }
  | { type: 'tool-call-start'; choice: number; index: number; id: string; name: string }
  | { type: 'tool-call-delta'; choice: number; index: number; inputDelta: string }
  | { type: 'finish'; choice: number; reason: FinishReason; rawReason?: string; stopSequence?: string }
  | { type: 'usage'; usage: CanonicalUsage }
  | { type: 'error'; error: AdapterError };

export type CanonicalStreamPartType = CanonicalStreamPart['type'];

/** Zero usage, to build on. */
export function emptyUsage(): CanonicalUsage {
  return { input: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 }, output: { total: 0, text: 0, reasoning: 0 }, extra: {} };
}
