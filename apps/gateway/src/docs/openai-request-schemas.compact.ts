import type { JsonSchema } from './json-schema.js';

/**
 * Stand-ins for OpenAI's request body schemas, under the names OpenAI's spec gives them, for as
 * long as this branch lacks the vendored ones (apps/gateway/src/proxy/openai-request-schemas.generated.ts,
 * `openAIRequestSchemas.schemas`, from the request-validation work). Once that module is here,
 * startGateway passes its schemas to buildV1OpenApi and these are no longer used: one source of
 * truth for what /v1 accepts, the same one the validator enforces.
 */
export const compactOpenAIRequestSchemas: Record<'CreateChatCompletionRequest' | 'CreateCompletionRequest' | 'CreateEmbeddingRequest', JsonSchema> = {
  CreateChatCompletionRequest: {
    type: 'object',
    properties: {
      model: { type: 'string', minLength: 1 },
      messages: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          properties: {
            role: { type: 'string', enum: ['developer', 'system', 'user', 'assistant', 'tool', 'function'] },
            content: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }, { type: 'null' }] },
            name: { type: 'string' },
            tool_calls: { type: 'array', items: { type: 'object' } },
            tool_call_id: { type: 'string' },
          },
          required: ['role'],
        },
      },
      stream: { anyOf: [{ type: 'boolean' }, { type: 'null' }] },
      stream_options: { anyOf: [{ type: 'object', properties: { include_usage: { type: 'boolean' } } }, { type: 'null' }] },
      max_tokens: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
      max_completion_tokens: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
      n: { anyOf: [{ type: 'integer', minimum: 1, maximum: 128 }, { type: 'null' }] },
      temperature: { anyOf: [{ type: 'number', minimum: 0, maximum: 2 }, { type: 'null' }] },
      top_p: { anyOf: [{ type: 'number', minimum: 0, maximum: 1 }, { type: 'null' }] },
      stop: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'null' }] },
      tools: { type: 'array', items: { type: 'object' } },
      tool_choice: { anyOf: [{ type: 'string', enum: ['none', 'auto', 'required'] }, { type: 'object' }] },
      parallel_tool_calls: { type: 'boolean' },
      response_format: { type: 'object', properties: { type: { type: 'string', enum: ['text', 'json_object', 'json_schema'] } } },
      user: { type: 'string' },
    },
    required: ['model', 'messages'],
  },
  CreateCompletionRequest: {
    type: 'object',
    properties: {
      model: { type: 'string', minLength: 1 },
      prompt: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'array', items: { type: 'integer' } }, { type: 'null' }] },
      stream: { anyOf: [{ type: 'boolean' }, { type: 'null' }] },
      max_tokens: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
      n: { anyOf: [{ type: 'integer', minimum: 1, maximum: 128 }, { type: 'null' }] },
      temperature: { anyOf: [{ type: 'number', minimum: 0, maximum: 2 }, { type: 'null' }] },
      stop: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'null' }] },
      suffix: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      user: { type: 'string' },
    },
    required: ['model', 'prompt'],
  },
  CreateEmbeddingRequest: {
    type: 'object',
    properties: {
      input: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'array', items: { type: 'integer' } }, { type: 'array', items: { type: 'array', items: { type: 'integer' } } }] },
      model: { type: 'string', minLength: 1 },
      encoding_format: { type: 'string', enum: ['float', 'base64'], default: 'float' },
      dimensions: { type: 'integer', minimum: 1 },
      user: { type: 'string' },
    },
    required: ['model', 'input'],
  },
};
