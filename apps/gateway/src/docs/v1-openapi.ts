import type { OpenAPIObject } from '@nestjs/swagger';
import { anthropicSchemas } from './anthropic-schemas.js';
import type { JsonSchema } from './json-schema.js';
import { openAIResponseSchemas } from './openai-response-schemas.generated.js';
import { openAIRequestSchemas } from '../proxy/openai-request-schemas.generated.js';

/**
 * The OpenAPI description of the /v1 routes. They are served from node:http and a bare Fastify
 * context (V1FrontDoor, V1Routes), outside Nest's controllers, so Swagger cannot scan them: this
 * module writes their path items and components by hand, from OpenAI's published schemas for the
 * OpenAI-format endpoints and compact Anthropic schemas for /v1/messages, and startGateway merges
 * them into the scanned admin document.
 */

/** The gateway key as a bearer token, the way every /v1 client sends it (distinct from the admin scheme). */
export const GATEWAY_KEY_SCHEME = 'gatewayKey';
/** The gateway key in `x-api-key`, as older `@anthropic-ai/sdk` versions send it to /v1/messages. */
export const GATEWAY_KEY_HEADER_SCHEME = 'gatewayKeyXApiKey';

export const V1_TAG_OPENAI = 'v1 (OpenAI format)';
export const V1_TAG_ANTHROPIC = 'v1 (Anthropic format)';

type OpenAIRequestSchemaName = keyof typeof openAIRequestSchemas.schemas;

export interface V1OpenApiOptions {
  /**
   * OpenAI's request body schemas by their spec names; by default the vendored ones the request
   * validator compiles, so docs and validation share one source.
   */
  openAIRequestSchemas?: Readonly<Record<OpenAIRequestSchemaName, JsonSchema>>;
}

/** What /v1 adds to the document: path items, schemas, reusable headers and security schemes. */
export interface V1OpenApi {
  paths: Record<string, Record<string, JsonSchema>>;
  components: {
    schemas: Record<string, JsonSchema>;
    headers: Record<string, JsonSchema>;
    securitySchemes: Record<string, JsonSchema>;
  };
  tags: { name: string; description: string }[];
}

const schemaRef = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const headerRef = (name: string): JsonSchema => ({ $ref: `#/components/headers/${name}` });

/** How the `model` field of every /v1 call is resolved (README "Addressing models"). */
const MODEL_ADDRESSING =
  'The `model` field is resolved in this order: (1) an active provider model of exactly that name; (2) `slug/model`: any model id of the connection with that ' +
  'lower-case slug, passed upstream unvalidated; (3) the first model-name rewrite rule (/admin/model-rewrite-rules, in position order) whose RE2 pattern matches the whole ' +
  'name, its target resolved by (1) or (2); (4) `name:temperature=0.2,top_p=0.9`: the name before the last `:` by (1)-(3), with those parameters overriding the ' +
  'request’s (known: temperature, top_p, top_k, max_tokens, presence_penalty, frequency_penalty, seed, stop); otherwise 404 model_not_found. ' +
  'A provider model’s default parameters fill what the request leaves out; a request without an output bound gets the model’s maxOutputTokens.';

type ErrorFormat = 'openai' | 'anthropic';
type ErrorStatus = 400 | 401 | 404 | 413 | 415 | 429 | 500 | 501 | 502 | 503 | 504 | 529;

/**
 * What each status means on /v1; the body is the caller's format's error object. One status per
 * error kind (apps/gateway/README.md has the table, v1/call-failure.ts the code): chosen so the
 * official clients retry what is worth retrying; every failed call also carries `x-should-retry`.
 */
const ERROR_MEANING: Record<ErrorStatus, string> = {
  400:
    'The body is not valid JSON or breaks the request schema, the model’s limits, or the provider refused the request: bad_request, context_length_exceeded, content_filter, ' +
    'unsupported_operation (the model’s adapter has no such endpoint), wrong_model_kind (a chat, completion or embedding model called at another kind’s endpoint), ' +
    'invalid_model_parameter (a `name:param=value` suffix names an unknown parameter or an invalid value; param `model`), max_tokens_exceeded (more output asked than the model’s maxOutputTokens; details {model, limit, requested}), ' +
    'input_limit_exceeded (the input has more tokens than the model’s maxInputTokens; details {model, limit, measured}, measured with the tokenizer). Not retried.',
  401: 'The gateway key is missing, unknown, revoked or expired. A provider refusing the connection’s own credentials is never answered 401 (see 502).',
  404: 'No model of this name is callable with this gateway key (model_not_found; an inactive model too; the message points at GET /v1/models), or the URL is unknown.',
  413: 'The request body is larger than the /v1 body limit.',
  415: 'Content-Type is not application/json.',
  429: 'Rate limited by the provider (code rate_limited), or too many concurrent requests from this client. `retry-after` (seconds) and `retry-after-ms` say when a retry may succeed; the official clients honour them.',
  500: 'The gateway failed; the log has the details under the x-request-id.',
  501: 'The model’s connection uses an adapter this gateway has not loaded (adapter_unavailable). Not retried.',
  502: 'The provider failed (upstream_error, upstream_unreachable, upstream_invalid_response), redirected (upstream_redirect), is on an address the gateway may not call (upstream_address_refused), or refused the connection’s credentials (upstream_auth_failed, with x-should-retry: false).',
  503: 'OpenAI format: the provider is overloaded (code overloaded); worth retrying.',
  504: 'The provider did not answer in time (upstream_timeout).',
  529: 'Anthropic format: the provider is overloaded (overloaded_error), as Anthropic itself answers; worth retrying.',
};

const RETRY_HEADERS = { 'x-should-retry': headerRef('XShouldRetry') };

function errorResponses(format: ErrorFormat, statuses: readonly ErrorStatus[]): Record<string, JsonSchema> {
  const schema = schemaRef(format === 'openai' ? 'ErrorResponse' : 'AnthropicErrorResponse');
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: ERROR_MEANING[status],
        headers:
          status === 429
            ? { 'x-request-id': headerRef('XRequestId'), 'retry-after': headerRef('RetryAfter'), 'retry-after-ms': headerRef('RetryAfterMs'), ...RETRY_HEADERS }
            : status >= 500 || status === 400
              ? { 'x-request-id': headerRef('XRequestId'), ...RETRY_HEADERS }
              : { 'x-request-id': headerRef('XRequestId') },
        content: { 'application/json': { schema } },
      },
    ]),
  );
}

/** The statuses a call that reaches a provider can answer, per client format (overloaded: 503 vs Anthropic's own 529). */
const PROVIDER_CALL_ERRORS: readonly ErrorStatus[] = [400, 401, 404, 413, 415, 429, 500, 501, 502, 503, 504];
const ANTHROPIC_PROVIDER_CALL_ERRORS: readonly ErrorStatus[] = [400, 401, 404, 413, 415, 429, 500, 501, 502, 504, 529];

function eventStream(description: string, eventSchema: string): JsonSchema {
  return {
    schema: { type: 'string', description: `${description} Each event's data is a ${eventSchema} (#/components/schemas/${eventSchema}).` },
  };
}

function ok(description: string, content: Record<string, JsonSchema>): JsonSchema {
  return { description, headers: { 'x-request-id': headerRef('XRequestId') }, content };
}

function jsonBody(schemaName: string): JsonSchema {
  return { required: true, content: { 'application/json': { schema: schemaRef(schemaName) } } };
}

const openAISecurity = [{ [GATEWAY_KEY_SCHEME]: [] }];
/** Either form of the key: current Anthropic SDKs send a bearer token, older ones x-api-key. */
const anthropicSecurity = [{ [GATEWAY_KEY_SCHEME]: [] }, { [GATEWAY_KEY_HEADER_SCHEME]: [] }];

const anthropicHeaders: JsonSchema[] = [
  {
    name: 'anthropic-version',
    in: 'header',
    required: false,
    description: 'The Anthropic API version the client speaks, as Anthropic’s SDKs send it.',
    schema: { type: 'string', examples: ['2023-06-01'] },
  },
  {
    name: 'anthropic-beta',
    in: 'header',
    required: false,
    description: 'Comma-separated beta features, forwarded to an Anthropic upstream.',
    schema: { type: 'string' },
  },
];

/** Builds the /v1 part of the gateway's OpenAPI 3.1 document. */
export function buildV1OpenApi(options: V1OpenApiOptions = {}): V1OpenApi {
  const requestSchemas = options.openAIRequestSchemas ?? (openAIRequestSchemas.schemas as Readonly<Record<OpenAIRequestSchemaName, JsonSchema>>);
  const schemas: Record<string, JsonSchema> = {
    ...requestSchemas,
    ...(openAIResponseSchemas.schemas as Record<string, JsonSchema>),
    // OpenAI's schema only knows float vectors; `encoding_format: base64` answers each as a base64 string of little-endian float32s.
    CreateEmbeddingBase64Response: {
      description: 'CreateEmbeddingResponse when the request asked for encoding_format "base64": each embedding is a base64 string of little-endian float32 values.',
      type: 'object',
      properties: {
        object: { const: 'list' },
        model: { type: 'string' },
        data: {
          type: 'array',
          items: {
            type: 'object',
            properties: { object: { const: 'embedding' }, index: { type: 'integer' }, embedding: { type: 'string', contentEncoding: 'base64' } },
            required: ['object', 'index', 'embedding'],
          },
        },
        usage: { $ref: '#/components/schemas/CreateEmbeddingResponse/properties/usage' },
      },
      required: ['object', 'model', 'data', 'usage'],
    },
    ...anthropicSchemas,
  };

  const paths: V1OpenApi['paths'] = {
    '/v1/chat/completions': {
      post: {
        operationId: 'v1CreateChatCompletion',
        tags: [V1_TAG_OPENAI],
        summary: 'Create a chat completion (OpenAI format), routed to any provider',
        security: openAISecurity,
        requestBody: jsonBody('CreateChatCompletionRequest'),
        responses: {
          '200': ok('The completion; with `stream: true`, a server-sent event stream of chunks.', {
            'application/json': { schema: schemaRef('CreateChatCompletionResponse') },
            'text/event-stream': eventStream(
              '`data: <chunk>` events, ending with `data: [DONE]`. A failure after the first byte arrives as a chunk carrying an `error` object before the stream closes.',
              'CreateChatCompletionStreamResponse',
            ),
          }),
          ...errorResponses('openai', PROVIDER_CALL_ERRORS),
        },
      },
    },
    '/v1/completions': {
      post: {
        operationId: 'v1CreateCompletion',
        tags: [V1_TAG_OPENAI],
        summary: 'Create a text completion (OpenAI format) with a completion-flavour model',
        security: openAISecurity,
        requestBody: jsonBody('CreateCompletionRequest'),
        responses: {
          '200': ok('The completion; with `stream: true`, a server-sent event stream of completion chunks.', {
            'application/json': { schema: schemaRef('CreateCompletionResponse') },
            'text/event-stream': eventStream('`data: <chunk>` events (finish_reason null until the last), ending with `data: [DONE]`.', 'CreateCompletionResponse'),
          }),
          ...errorResponses('openai', PROVIDER_CALL_ERRORS),
        },
      },
    },
    '/v1/embeddings': {
      post: {
        operationId: 'v1CreateEmbedding',
        tags: [V1_TAG_OPENAI],
        summary: 'Create embeddings (OpenAI format), as float arrays or base64 (`encoding_format`)',
        security: openAISecurity,
        requestBody: jsonBody('CreateEmbeddingRequest'),
        responses: {
          '200': ok('The embeddings, in the encoding the request asked for (float by default; the `openai` client asks for base64).', {
            'application/json': { schema: { oneOf: [schemaRef('CreateEmbeddingResponse'), schemaRef('CreateEmbeddingBase64Response')] } },
          }),
          ...errorResponses('openai', PROVIDER_CALL_ERRORS),
        },
      },
    },
    '/v1/traces': {
      post: {
        operationId: 'v1ExportTraces',
        tags: [V1_TAG_OPENAI],
        summary: 'OTLP/HTTP trace intake: your services’ own LLM-call spans, priced like the gateway’s (README, "Traces from your own services")',
        description:
          'An OpenTelemetry ExportTraceServiceRequest (https://opentelemetry.io/docs/specs/otlp/#otlphttp) as protobuf or OTLP/JSON, optionally `content-encoding: gzip`. ' +
          'Spans that are model calls (gen_ai.*, OpenInference, Traceloop, Langfuse attributes) are priced once per (organisation, trace id, span id); other spans are ignored. ' +
          'The 200 comes once the spans are on the durable stream. A malformed export or a field of the wrong type is 400 (the error names the field) and stores nothing; ' +
          'a body over OTLP_MAX_BODY_BYTES, as sent or decompressed, is 413.',
        security: openAISecurity,
        requestBody: {
          required: true,
          content: {
            'application/x-protobuf': { schema: { type: 'string', format: 'binary', description: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest (proto/opentelemetry)' } },
            'application/json': { schema: { type: 'object', description: 'ExportTraceServiceRequest in OTLP/JSON: hex trace and span ids, 64-bit integers as strings or numbers.', properties: { resourceSpans: { type: 'array', items: { type: 'object' } } } } },
          },
        },
        responses: {
          '200': ok('An empty ExportTraceServiceResponse, in the request’s encoding: every span is stored.', {
            'application/x-protobuf': { schema: { type: 'string', format: 'binary' } },
            'application/json': { schema: { type: 'object' } },
          }),
          ...errorResponses('openai', [400, 401, 413, 415, 429, 500, 503]),
        },
      },
    },
    '/v1/models': {
      get: {
        operationId: 'v1ListModels',
        tags: [V1_TAG_OPENAI],
        summary: 'List the models this gateway key may call and an adapter of this gateway can serve',
        security: openAISecurity,
        responses: {
          '200': ok('The models.', { 'application/json': { schema: schemaRef('ListModelsResponse') } }),
          ...errorResponses('openai', [401, 429, 500]),
        },
      },
    },
    '/v1/models/{model}': {
      get: {
        operationId: 'v1RetrieveModel',
        tags: [V1_TAG_OPENAI],
        summary: 'One model this gateway key may call',
        security: openAISecurity,
        parameters: [{ name: 'model', in: 'path', required: true, description: 'The model’s name, as /v1/models lists it.', schema: { type: 'string' } }],
        responses: {
          '200': ok('The model.', { 'application/json': { schema: schemaRef('Model') } }),
          ...errorResponses('openai', [401, 404, 429, 500]),
        },
      },
    },
    '/v1/messages': {
      post: {
        operationId: 'v1CreateMessage',
        tags: [V1_TAG_ANTHROPIC],
        summary: 'Create a message (Anthropic format), routed to any provider; Anthropic to Anthropic passes through untouched',
        security: anthropicSecurity,
        parameters: anthropicHeaders,
        requestBody: jsonBody('AnthropicMessagesRequest'),
        responses: {
          '200': ok('The message; with `stream: true`, a server-sent event stream of Anthropic stream events.', {
            'application/json': { schema: schemaRef('AnthropicMessage') },
            'text/event-stream': eventStream(
              '`event: <type>` and `data: <event>` per event, from message_start to message_stop; a failure after the first byte arrives as an `error` event.',
              'AnthropicStreamEvent',
            ),
          }),
          ...errorResponses('anthropic', ANTHROPIC_PROVIDER_CALL_ERRORS),
        },
      },
    },
    '/v1/messages/count_tokens': {
      post: {
        operationId: 'v1CountMessageTokens',
        tags: [V1_TAG_ANTHROPIC],
        summary: 'Count the input tokens of a Messages request (Anthropic format)',
        security: anthropicSecurity,
        parameters: anthropicHeaders,
        requestBody: jsonBody('AnthropicCountTokensRequest'),
        responses: {
          '200': ok('The input token count.', { 'application/json': { schema: schemaRef('AnthropicCountTokensResponse') } }),
          ...errorResponses('anthropic', ANTHROPIC_PROVIDER_CALL_ERRORS),
        },
      },
    },
  };

  return {
    paths,
    components: {
      schemas,
      headers: {
        XRequestId: { description: 'The gateway’s id of this request, also on its span and in its log lines.', schema: { type: 'string', format: 'uuid' } },
        RetryAfter: { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
        RetryAfterMs: { description: 'Milliseconds to wait before retrying (read by the official OpenAI clients).', schema: { type: 'integer', minimum: 0 } },
        XShouldRetry: { description: 'Whether retrying the same call may succeed; the official OpenAI and Anthropic clients follow it over the status.', schema: { type: 'string', enum: ['true', 'false'] } },
      },
      securitySchemes: {
        [GATEWAY_KEY_SCHEME]: { type: 'http', scheme: 'bearer', description: 'A gateway key (sk-gw-...) as `Authorization: Bearer`, for every /v1 route.' },
        [GATEWAY_KEY_HEADER_SCHEME]: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'A gateway key in `x-api-key`, accepted on /v1/messages as Anthropic’s older SDKs send it.' },
      },
    },
    tags: [
      { name: V1_TAG_OPENAI, description: `OpenAI-compatible LLM API; errors in OpenAI’s error object. ${MODEL_ADDRESSING}` },
      { name: V1_TAG_ANTHROPIC, description: `Anthropic-compatible LLM API; errors in Anthropic’s error body (input_limit_exceeded adds code and details to it). ${MODEL_ADDRESSING}` },
    ],
  };
}

/**
 * Adds the /v1 part to the scanned document (in place, and returns it). A name the scan already
 * used (an admin DTO called `Model`, an admin route under /v1) stops the start rather than
 * silently documenting one of the two wrongly.
 */
export function mergeV1IntoDocument(document: OpenAPIObject, v1: V1OpenApi): OpenAPIObject {
  const components = (document.components ??= {}) as Record<string, Record<string, unknown> | undefined>;
  const into = (section: keyof V1OpenApi['components']): void => {
    const target = (components[section] ??= {});
    for (const [name, value] of Object.entries(v1.components[section])) {
      if (name in target) throw new Error(`OpenAPI document: components.${section}.${name} is both an admin and a /v1 name`);
      target[name] = value;
    }
  };
  into('schemas');
  into('headers');
  into('securitySchemes');
  const paths = document.paths as Record<string, unknown>;
  for (const [path, item] of Object.entries(v1.paths)) {
    if (path in paths) throw new Error(`OpenAPI document: ${path} is both scanned and a /v1 path`);
    paths[path] = item;
  }
  document.tags = [...(document.tags ?? []), ...v1.tags];
  return document;
}
