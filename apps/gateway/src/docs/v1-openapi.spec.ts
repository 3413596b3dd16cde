import type { OpenAPIObject } from '@nestjs/swagger';
import * as anthropic from '../../../../test/fixtures/anthropic/messages-fixtures.js';
import { chatCompletion, embeddingBase64, embeddingVector } from '../../../../test/support/fake-upstream/openai-wire.js';
import { componentSchemaErrors, componentSchemaValidator, openApi31Errors, unresolvedRefs } from '../../../../test/support/openapi-document.js';

import { buildV1OpenApi, GATEWAY_KEY_HEADER_SCHEME, GATEWAY_KEY_SCHEME, mergeV1IntoDocument } from './v1-openapi.js';

/** What Nest's scan of the admin controllers gives, in miniature. */
function scannedAdminDocument(): OpenAPIObject {
  return {
    openapi: '3.1.0',
    info: { title: 'LLM Gateway', version: '1' },
    paths: {
      '/admin/connections': {
        get: { operationId: 'listConnections', security: [{ bearer: [] }], responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/ConnectionView' } } } } } },
      },
    },
    components: {
      schemas: { ConnectionView: { type: 'object', properties: { id: { type: 'string' } } } },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
  };
}

type Operation = {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: { $ref?: string; oneOf?: unknown[] } }> }>;
};

const OPERATIONS = [
  ['post', '/v1/chat/completions', 'openai'],
  ['post', '/v1/completions', 'openai'],
  ['post', '/v1/embeddings', 'openai'],
  ['get', '/v1/models', 'openai'],
  ['get', '/v1/models/{model}', 'openai'],
  ['post', '/v1/messages', 'anthropic'],
  ['post', '/v1/messages/count_tokens', 'anthropic'],
] as const;

describe('the /v1 part of the OpenAPI document', () => {
  const document = mergeV1IntoDocument(scannedAdminDocument(), buildV1OpenApi());
  const operation = (method: string, path: string): Operation => (document.paths[path] as Record<string, Operation>)[method]!;

  it.each(OPERATIONS)('documents %s %s with its body and answer schemas, its format’s errors and the gateway key', (method, path, format) => {
    const op = operation(method, path);
    if (method === 'post') expect(op.requestBody?.content['application/json']?.schema.$ref).toMatch(/^#\/components\/schemas\/\w+Request$/);
    const ok = op.responses['200']?.content?.['application/json']?.schema;
    expect(ok?.$ref ?? ok?.oneOf).toBeDefined();
    const errorSchema = format === 'openai' ? '#/components/schemas/ErrorResponse' : '#/components/schemas/AnthropicErrorResponse';
    const errorStatuses = Object.keys(op.responses).filter((s) => Number(s) >= 400);
    expect(errorStatuses).toEqual(expect.arrayContaining(['401', '429', '500']));
    for (const status of errorStatuses) expect(op.responses[status]!.content!['application/json']!.schema.$ref).toBe(errorSchema);
    expect(op.security).toContainEqual({ [GATEWAY_KEY_SCHEME]: [] });
  });

  it('lists every status a call through a provider can answer on the endpoints that make one', () => {
    for (const [method, path] of OPERATIONS.filter(([m]) => m === 'post')) {
      // Overloaded is 503 in OpenAI's format, 529 in Anthropic's (as Anthropic answers it).
      const overloaded = path.startsWith('/v1/messages') ? '529' : '503';
      expect(Object.keys(operation(method, path).responses).sort()).toEqual(['200', '400', '401', '404', '413', '415', '429', '500', '501', '502', '504', overloaded].sort());
    }
    expect(Object.keys(operation('get', '/v1/models/{model}').responses)).toContain('404');
  });

  it('documents the OTLP trace intake with both of its encodings, its refusals and the gateway key', () => {
    const op = operation('post', '/v1/traces');
    expect(Object.keys(op.requestBody!.content).sort()).toEqual(['application/json', 'application/x-protobuf']);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '413', '415']));
    expect(op.security).toContainEqual({ [GATEWAY_KEY_SCHEME]: [] });
  });

  it('tells a rate-limited caller when to retry: every 429 carries retry-after', () => {
    for (const [method, path] of OPERATIONS) {
      expect(operation(method, path).responses['429']!.headers).toHaveProperty('retry-after', { $ref: '#/components/headers/RetryAfter' });
    }
  });

  it('documents streamed answers as text/event-stream on chat, completions and messages, and not on embeddings', () => {
    for (const path of ['/v1/chat/completions', '/v1/completions', '/v1/messages']) {
      expect(operation('post', path).responses['200']!.content).toHaveProperty('text/event-stream');
    }
    expect(operation('post', '/v1/embeddings').responses['200']!.content).not.toHaveProperty('text/event-stream');
  });

  it('accepts the gateway key on /v1/messages as a bearer token or as x-api-key, with the anthropic-version header', () => {
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      const op = operation('post', path);
      expect(op.security).toEqual([{ [GATEWAY_KEY_SCHEME]: [] }, { [GATEWAY_KEY_HEADER_SCHEME]: [] }]);
      expect(op.parameters).toContainEqual(expect.objectContaining({ name: 'anthropic-version', in: 'header' }));
    }
    expect(operation('post', '/v1/chat/completions').security).toEqual([{ [GATEWAY_KEY_SCHEME]: [] }]);
    expect(document.components!.securitySchemes![GATEWAY_KEY_HEADER_SCHEME]).toEqual(expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-api-key' }));
  });

  it('keeps the admin paths and the admin bearer scheme beside the gateway-key scheme, so Swagger UI can hold both', () => {
    expect(document.paths['/admin/connections']).toBeDefined();
    expect(Object.keys(document.components!.securitySchemes!).sort()).toEqual(['bearer', GATEWAY_KEY_SCHEME, GATEWAY_KEY_HEADER_SCHEME].sort());
    expect(document.components!.securitySchemes![GATEWAY_KEY_SCHEME]).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
  });

  it('is a valid OpenAPI 3.1 document whose every $ref resolves and whose schemas are valid JSON Schema', () => {
    expect(openApi31Errors(document)).toEqual([]);
    expect(unresolvedRefs(document)).toEqual([]);
    expect(componentSchemaErrors(document)).toEqual([]);
  });

  it('describes the bodies the gateway and the providers really send', () => {
    const errorsOf = componentSchemaValidator(document);
    expect(errorsOf('ErrorResponse', { error: { message: 'invalid key', type: 'authentication_error', param: null, code: 'invalid_api_key' } })).toEqual([]);
    expect(errorsOf('CreateChatCompletionResponse', chatCompletion({ content: 'hi' }, 'gpt-4o-mini'))).toEqual([]);
    const vector = embeddingVector(0, 4);
    const embeddings = (embedding: number[] | string) => ({ object: 'list', model: 'm', data: [{ object: 'embedding', index: 0, embedding }], usage: { prompt_tokens: 1, total_tokens: 1 } });
    expect(errorsOf('CreateEmbeddingResponse', embeddings(vector))).toEqual([]);
    expect(errorsOf('CreateEmbeddingBase64Response', embeddings(embeddingBase64(vector)))).toEqual([]);
    for (const message of [anthropic.textMessage, anthropic.toolUseMessage, anthropic.thinkingMessage, anthropic.cachedMessage]) expect(errorsOf('AnthropicMessage', message)).toEqual([]);
    for (const event of [...anthropic.textStream, ...anthropic.toolUseStream, ...anthropic.thinkingStream, ...anthropic.overloadedMidStream]) expect(errorsOf('AnthropicStreamEvent', event)).toEqual([]);
    for (const body of Object.values(anthropic.errors)) expect(errorsOf('AnthropicErrorResponse', body)).toEqual([]);
    // and they are not so loose that anything passes
    expect(errorsOf('ErrorResponse', { error: { message: 'no type, param or code' } })).not.toEqual([]);
    expect(errorsOf('AnthropicStreamEvent', { type: 'content_block_delta', delta: { type: 'text_delta', text: 'no index' } })).not.toEqual([]);
    expect(errorsOf('AnthropicMessage', { ...anthropic.textMessage, usage: undefined })).not.toEqual([]);
  });

  it('documents requests with the request schemas it is given, under OpenAI’s names, so validation and docs share one source', () => {
    const vendored = { type: 'object', title: 'vendored' };
    const v1 = buildV1OpenApi({ openAIRequestSchemas: { CreateChatCompletionRequest: vendored, CreateCompletionRequest: vendored, CreateEmbeddingRequest: vendored } });
    expect(v1.components.schemas.CreateChatCompletionRequest).toBe(vendored);
    expect(buildV1OpenApi().components.schemas.CreateEmbeddingRequest).toEqual(
      expect.objectContaining({ properties: expect.objectContaining({ encoding_format: expect.objectContaining({ enum: ['float', 'base64'] }) }) }),
    );
  });

  it('refuses to start with a component name or a path both the admin scan and /v1 use', () => {
    const clashingSchema = scannedAdminDocument();
    clashingSchema.components!.schemas!.Model = { type: 'object' };
    expect(() => mergeV1IntoDocument(clashingSchema, buildV1OpenApi())).toThrow('components.schemas.Model');
    const clashingPath = scannedAdminDocument();
    clashingPath.paths['/v1/models'] = {};
    expect(() => mergeV1IntoDocument(clashingPath, buildV1OpenApi())).toThrow('/v1/models');
  });
});
