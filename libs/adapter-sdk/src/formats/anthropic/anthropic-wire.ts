/**
 * The parts of Anthropic's Messages API the codecs write (https://docs.anthropic.com/en/api/messages).
 * Written to be assignable to the official SDK's types (`Anthropic.Message`,
 * `Anthropic.RawMessageStreamEvent`): the tests check that at compile time, so a field the SDK
 * requires cannot be forgotten. The SDK itself is a dev dependency only.
 */

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded';

export interface AnthropicUsage {
  cache_creation: { ephemeral_1h_input_tokens: number; ephemeral_5m_input_tokens: number } | null;
  cache_creation_input_tokens: number | null;
  cache_read_input_tokens: number | null;
  inference_geo: string | null;
  input_tokens: number;
  output_tokens: number;
  output_tokens_details: { thinking_tokens: number } | null;
  server_tool_use: null;
  service_tier: 'standard' | 'priority' | 'batch' | null;
  speed: 'standard' | 'fast' | null;
}

export interface AnthropicDeltaUsage {
  cache_creation_input_tokens: number | null;
  cache_read_input_tokens: number | null;
  input_tokens: number | null;
  output_tokens: number;
  output_tokens_details: { thinking_tokens: number } | null;
  server_tool_use: null;
}

export type AnthropicContentBlock =
  | { type: 'text'; text: string; citations: null }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown; caller: { type: 'direct' } };

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  stop_details: null;
  container: null;
  diagnostics: null;
  usage: AnthropicUsage;
}

export type AnthropicContentDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string }
  | { type: 'input_json_delta'; partial_json: string };

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

export type AnthropicMessageStreamEvent =
  | { type: 'message_start'; message: AnthropicMessage }
  | { type: 'content_block_start'; index: number; content_block: AnthropicContentBlock }
  | { type: 'content_block_delta'; index: number; delta: AnthropicContentDelta }
  | { type: 'content_block_stop'; index: number }
  | {
      type: 'message_delta';
      delta: { stop_reason: AnthropicStopReason | null; stop_sequence: string | null; stop_details: null; container: null };
      usage: AnthropicDeltaUsage;
    }
  | { type: 'message_stop' };

/** The `error` event of a stream (https://docs.anthropic.com/en/api/messages-streaming#error-events). */
export interface AnthropicErrorEvent {
  type: 'error';
  error: { type: AnthropicErrorType; message: string };
}

/** An outgoing event: its SSE name is its type. */
export type AnthropicOutgoingEvent = AnthropicMessageStreamEvent | AnthropicErrorEvent;

/** A whole error answer. */
export interface AnthropicErrorResponse {
  type: 'error';
  error: { type: AnthropicErrorType; message: string };
  request_id: string | null;
}
