import request from 'supertest';
import { startProduct, type Product } from '../support/e2e/product.js';
import { componentSchemaErrors, componentSchemaValidator, openApi31Errors, resolvePointer, unresolvedRefs } from '../support/openapi-document.js';

/**
 * /docs-json as Swagger UI and code generators read it from the running product: /v1 (OpenAI and
 * Anthropic formats) documented beside /admin, each with its own key, as one valid OpenAPI 3.1 document.
 */

type Schema = { $ref?: string; oneOf?: Schema[] };
type Operation = {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: Schema }> }>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown>; securitySchemes: Record<string, Record<string, unknown>> } };

const V1_OPERATIONS = [
  { method: 'post', path: '/v1/chat/completions', format: 'openai', streams: true },
  { method: 'post', path: '/v1/completions', format: 'openai', streams: true },
  { method: 'post', path: '/v1/embeddings', format: 'openai', streams: false },
  { method: 'get', path: '/v1/models', format: 'openai', streams: false },
  { method: 'get', path: '/v1/models/{model}', format: 'openai', streams: false },
  { method: 'post', path: '/v1/messages', format: 'anthropic', streams: true },
  { method: 'post', path: '/v1/messages/count_tokens', format: 'anthropic', streams: false },
] as const;

describe('the API documentation at /docs-json', () => {
  let product: Product;
  let document: Document;

  beforeAll(async () => {
    product = await startProduct();
    const res = await request(product.url).get('/docs-json');
    expect(res.status).toBe(200);
    document = res.body as Document;
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
  }, 60_000);

  /** The schema a `$ref` points at, or the inline schema itself; throws when the reference is dangling. */
  const deref = (schema: Schema | undefined): unknown => {
    if (schema?.$ref === undefined) return schema;
    const target = resolvePointer(document, schema.$ref);
    if (target === undefined) throw new Error(`dangling ${schema.$ref}`);
    return target;
  };

  it.each(V1_OPERATIONS)('documents $method $path with its body and answer schemas, its format’s errors and the gateway key', ({ method, path, format, streams }) => {
    const op = document.paths[path]?.[method];
    expect(op).toBeDefined();
    if (method === 'post') expect(deref(op!.requestBody?.content['application/json']?.schema)).toEqual(expect.any(Object));
    expect(deref(op!.responses['200']?.content?.['application/json']?.schema)).toEqual(expect.any(Object));
    if (streams) expect(op!.responses['200']!.content).toHaveProperty('text/event-stream');

    const errorSchema = format === 'openai' ? '#/components/schemas/ErrorResponse' : '#/components/schemas/AnthropicErrorResponse';
    const errors = Object.entries(op!.responses).filter(([status]) => Number(status) >= 400);
    // No 403 on /v1 (a key's model permissions come with issue 15); overloaded is 503, or 529 in Anthropic's format.
    const overloaded = format === 'anthropic' ? '529' : '503';
    expect(errors.map(([status]) => status)).toEqual(expect.arrayContaining(['401', '429', '500', ...(method === 'post' ? ['400', '404', '413', '502', overloaded, '504'] : [])]));
    for (const [, response] of errors) expect(response.content?.['application/json']?.schema.$ref).toBe(errorSchema);
    expect(op!.responses['429']!.headers).toHaveProperty('retry-after');

    expect(op!.security).toContainEqual({ gatewayKey: [] });
    if (format === 'anthropic') expect(op!.security).toContainEqual({ gatewayKeyXApiKey: [] });
  });

  it('offers Swagger UI both keys: the admin bearer scheme and the gateway key, as bearer and as x-api-key', () => {
    expect(document.components.securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'bearer' },
      gatewayKey: { type: 'http', scheme: 'bearer' },
      gatewayKeyXApiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
    });
  });

  it('still documents /admin, behind the admin scheme', () => {
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/admin/connections', '/admin/provider-models', '/admin/model-definitions', '/admin/gateway-keys', '/admin/usage/costs']),
    );
    expect(document.paths['/admin/connections']!.get!.security).toContainEqual({ bearer: [] });
  });

  it('is one valid OpenAPI 3.1 document: the OpenAPI schema holds, every $ref resolves, every schema compiles', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(openApi31Errors(document)).toEqual([]);
    expect(unresolvedRefs(document)).toEqual([]);
    expect(componentSchemaErrors(document)).toEqual([]);
  });

  it('describes what /v1 really answers: the model list, and the error a missing key gets', async () => {
    const errorsOf = componentSchemaValidator(document);
    const models = await request(product.url).get('/v1/models').set('authorization', `Bearer ${product.adminKey}`);
    expect(models.status).toBe(200);
    expect(errorsOf('ListModelsResponse', models.body)).toEqual([]);

    const noKey = await request(product.url).post('/v1/chat/completions').send({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(noKey.status).toBe(401);
    expect(document.paths['/v1/chat/completions']!.post!.responses['401']).toBeDefined();
    expect(errorsOf('ErrorResponse', noKey.body)).toEqual([]);
  });

  it('serves Swagger UI at /docs', async () => {
    const ui = await request(product.url).get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger-ui');
  });
});
