import type { JsonSchema } from './json-schema.js';

/**
 * Compact JSON Schemas (OpenAPI 3.1 schema objects) of Anthropic's Messages API as /v1/messages
 * speaks it: https://docs.anthropic.com/en/api/messages, /en/api/messages-streaming,
 * /en/api/messages-count-tokens, /en/api/errors. They document the shapes a client sends and gets;
 * fields Anthropic adds later pass through (no additionalProperties: false), so the schemas name
 * what matters rather than every beta field.
 */

const cacheControl: JsonSchema = {
  type: 'object',
  properties: { type: { const: 'ephemeral' }, ttl: { type: 'string', enum: ['5m', '1h'] } },
  required: ['type'],
};

const stringOrBlocks = (blocks: JsonSchema): JsonSchema => ({ anyOf: [{ type: 'string' }, { type: 'array', items: blocks }] });

export const anthropicSchemas: Record<string, JsonSchema> = {
  AnthropicContentBlockParam: {
    description: 'A block of a message the client sends: text, image, document, tool_use, tool_result, thinking, redacted_thinking.',
    type: 'object',
    properties: {
      type: { type: 'string', examples: ['text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking'] },
      text: { type: 'string' },
      source: { type: 'object', description: 'image/document source: base64 (media_type, data) or url' },
      id: { type: 'string' },
      name: { type: 'string' },
      input: { type: 'object' },
      tool_use_id: { type: 'string' },
      content: stringOrBlocks({ type: 'object' }),
      is_error: { type: 'boolean' },
      thinking: { type: 'string' },
      signature: { type: 'string' },
      data: { type: 'string' },
      cache_control: { anyOf: [cacheControl, { type: 'null' }] },
    },
    required: ['type'],
  },
  AnthropicMessagesRequest: {
    type: 'object',
    properties: {
      model: { type: 'string', minLength: 1, description: 'A model definition this gateway key may call; routed to any provider.' },
      max_tokens: { type: 'integer', minimum: 1 },
      messages: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            role: { type: 'string', enum: ['user', 'assistant'] },
            content: stringOrBlocks({ $ref: '#/components/schemas/AnthropicContentBlockParam' }),
          },
          required: ['role', 'content'],
        },
      },
      system: stringOrBlocks({ $ref: '#/components/schemas/AnthropicContentBlockParam' }),
      stream: { type: 'boolean', default: false, description: 'true: the answer is a text/event-stream of Anthropic stream events.' },
      temperature: { type: 'number', minimum: 0, maximum: 1 },
      top_p: { type: 'number', minimum: 0, maximum: 1 },
      top_k: { type: 'integer', minimum: 0 },
      stop_sequences: { type: 'array', items: { type: 'string' } },
      metadata: { type: 'object', properties: { user_id: { anyOf: [{ type: 'string' }, { type: 'null' }] } } },
      tools: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            description: { type: 'string' },
            input_schema: { type: 'object' },
            type: { type: 'string', description: 'server tools (web_search_...) name their type' },
            cache_control: { anyOf: [cacheControl, { type: 'null' }] },
          },
          required: ['name'],
        },
      },
      tool_choice: {
        type: 'object',
        properties: {
          type: { type: 'string', enum: ['auto', 'any', 'tool', 'none'] },
          name: { type: 'string' },
          disable_parallel_tool_use: { type: 'boolean' },
        },
        required: ['type'],
      },
      thinking: {
        type: 'object',
        properties: { type: { type: 'string', enum: ['enabled', 'disabled'] }, budget_tokens: { type: 'integer', minimum: 1 } },
        required: ['type'],
      },
      service_tier: { type: 'string', enum: ['auto', 'standard_only'] },
    },
    required: ['model', 'max_tokens', 'messages'],
  },
  AnthropicCountTokensRequest: {
    description: 'The fields of a Messages request that count towards its input (Claude Code calls this when pointed at a gateway).',
    type: 'object',
    properties: {
      model: { type: 'string', minLength: 1 },
      messages: { $ref: '#/components/schemas/AnthropicMessagesRequest/properties/messages' },
      system: { $ref: '#/components/schemas/AnthropicMessagesRequest/properties/system' },
      tools: { $ref: '#/components/schemas/AnthropicMessagesRequest/properties/tools' },
      tool_choice: { $ref: '#/components/schemas/AnthropicMessagesRequest/properties/tool_choice' },
      thinking: { $ref: '#/components/schemas/AnthropicMessagesRequest/properties/thinking' },
    },
    required: ['model', 'messages'],
  },
  AnthropicCountTokensResponse: {
    type: 'object',
    properties: { input_tokens: { type: 'integer', minimum: 0 } },
    required: ['input_tokens'],
  },
  AnthropicContentBlock: {
    description: 'A block of the answer: text, tool_use, thinking or redacted_thinking (server tools add their own types).',
    type: 'object',
    properties: {
      type: { type: 'string', examples: ['text', 'tool_use', 'thinking', 'redacted_thinking'] },
      text: { type: 'string' },
      citations: { anyOf: [{ type: 'array', items: { type: 'object' } }, { type: 'null' }] },
      id: { type: 'string' },
      name: { type: 'string' },
      input: { type: 'object' },
      thinking: { type: 'string' },
      signature: { type: 'string' },
      data: { type: 'string' },
    },
    required: ['type'],
  },
  AnthropicUsage: {
    description: 'input_tokens counts only the uncached rest; cache reads and writes are counted apart.',
    type: 'object',
    properties: {
      input_tokens: { type: 'integer', minimum: 0 },
      output_tokens: { type: 'integer', minimum: 0 },
      cache_creation_input_tokens: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
      cache_read_input_tokens: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
      service_tier: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    },
    required: ['input_tokens', 'output_tokens'],
  },
  AnthropicMessage: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      type: { const: 'message' },
      role: { const: 'assistant' },
      model: { type: 'string' },
      content: { type: 'array', items: { $ref: '#/components/schemas/AnthropicContentBlock' } },
      stop_reason: {
        anyOf: [{ type: 'string', enum: ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal'] }, { type: 'null' }],
      },
      stop_sequence: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      usage: { $ref: '#/components/schemas/AnthropicUsage' },
    },
    required: ['id', 'type', 'role', 'model', 'content', 'stop_reason', 'stop_sequence', 'usage'],
  },
  AnthropicStreamEvent: {
    description:
      'The data of one server-sent event of a streamed /v1/messages answer; the SSE `event:` line repeats its type. ' +
      'Order: message_start, then per block content_block_start, content_block_delta..., content_block_stop, then message_delta and message_stop; ping may come at any time. ' +
      'A failure after the stream began is sent as an `error` event before the stream closes.',
    oneOf: [
      {
        type: 'object',
        properties: { type: { const: 'message_start' }, message: { $ref: '#/components/schemas/AnthropicMessage' } },
        required: ['type', 'message'],
      },
      {
        type: 'object',
        properties: { type: { const: 'content_block_start' }, index: { type: 'integer' }, content_block: { $ref: '#/components/schemas/AnthropicContentBlock' } },
        required: ['type', 'index', 'content_block'],
      },
      {
        type: 'object',
        properties: {
          type: { const: 'content_block_delta' },
          index: { type: 'integer' },
          delta: {
            type: 'object',
            properties: {
              type: { type: 'string', enum: ['text_delta', 'input_json_delta', 'thinking_delta', 'signature_delta', 'citations_delta'] },
              text: { type: 'string' },
              partial_json: { type: 'string' },
              thinking: { type: 'string' },
              signature: { type: 'string' },
            },
            required: ['type'],
          },
        },
        required: ['type', 'index', 'delta'],
      },
      {
        type: 'object',
        properties: { type: { const: 'content_block_stop' }, index: { type: 'integer' } },
        required: ['type', 'index'],
      },
      {
        type: 'object',
        properties: {
          type: { const: 'message_delta' },
          delta: {
            type: 'object',
            properties: {
              stop_reason: { $ref: '#/components/schemas/AnthropicMessage/properties/stop_reason' },
              stop_sequence: { anyOf: [{ type: 'string' }, { type: 'null' }] },
            },
          },
          usage: { type: 'object', properties: { output_tokens: { type: 'integer' } }, required: ['output_tokens'] },
        },
        required: ['type', 'delta', 'usage'],
      },
      { type: 'object', properties: { type: { const: 'message_stop' } }, required: ['type'] },
      { type: 'object', properties: { type: { const: 'ping' } }, required: ['type'] },
      {
        type: 'object',
        properties: { type: { const: 'error' }, error: { $ref: '#/components/schemas/AnthropicErrorResponse/properties/error' } },
        required: ['type', 'error'],
      },
    ],
  },
  AnthropicErrorResponse: {
    description: "Anthropic's error body, which /v1/messages answers every error with.",
    type: 'object',
    properties: {
      type: { const: 'error' },
      error: {
        type: 'object',
        properties: {
          type: {
            type: 'string',
            enum: [
              'invalid_request_error',
              'authentication_error',
              'permission_error',
              'not_found_error',
              'request_too_large',
              'rate_limit_error',
              'api_error',
              'overloaded_error',
              'timeout_error',
            ],
          },
          message: { type: 'string' },
        },
        required: ['type', 'message'],
      },
      request_id: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    },
    required: ['type', 'error'],
  },
};
