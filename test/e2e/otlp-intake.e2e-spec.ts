import { gzipSync } from 'node:zlib';
import { OTLPTraceExporter as OTLPHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { adminCall, waitForCostReport } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

interface Group {
  key: string;
  requests: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  cost: string;
  unpricedRequests: number;
  estimatedRequests: number;
}

/**
 * POST /v1/traces, driven by the official OpenTelemetry JS SDK and exporters (otlp-http sends
 * OTLP/JSON, otlp-proto protobuf), unchanged but for the gateway key in a header: an application
 * that calls its provider itself sends its gen_ai spans and their costs appear in the cost report,
 * equal to the hand calculation. Bad exports are refused with a 4xx and store nothing.
 */
describe('OTLP trace intake', () => {
  let product: Product;
  let ingestionKey: string;

  // Prices per token of the two models the spans name (gen_ai.request.model).
  const PRICES = { input: '0.000003', output: '0.000015', cache_read: '0.0000003', cache_write: '0.00000375', reasoning: '0.00002' };

  beforeAll(async () => {
    product = await startProduct();
    for (const model of ['otel-json-model', 'otel-proto-model', 'otel-dup-model', 'otel-sentinel-model', 'otel-never-model']) {
      await adminCall(product, 'POST', '/admin/model-definitions', { name: `def-${model}`, matchPattern: `^${model}$`, prices: PRICES, effectiveFrom: '2024-01-01T00:00:00Z' });
    }
    await adminCall(product, 'POST', '/admin/model-definitions', {
      name: 'def-otel-estimated',
      matchPattern: '^otel-estimated-model$',
      tokenizer: 'o200k_base',
      prices: { input: '0.000001', output: '0.000002' },
      effectiveFrom: '2024-01-01T00:00:00Z',
    });
    ingestionKey = (await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: 'otel-ingestion' })).key;
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
  }, 60_000);

  const groupOf = async (model: string, done: (g: Group) => boolean): Promise<Group> => {
    const report = await waitForCostReport(product, (r) => r.groups.some((g) => g.key === model && done(g as unknown as Group)));
    return report.groups.find((g) => g.key === model) as unknown as Group;
  };
  const traceUrl = (): string => `${product.url}/v1/traces`;
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${ingestionKey}` });

  /** Spans made by the SDK as an instrumented application makes them, kept in memory to be exported as a test chooses. */
  function recordSpans(make: (provider: TracerProvider) => void): ReadableSpan[] {
    const memory = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
    make(provider);
    return memory.getFinishedSpans();
  }

  function exportWith(exporter: SpanExporter, spans: ReadableSpan[]): Promise<{ code: number; error?: Error }> {
    return new Promise((resolve) => exporter.export(spans, resolve));
  }

  const chatSpan = (provider: TracerProvider, model: string, attributes: Record<string, number | string>): void => {
    const span = provider.getTracer('my-app').startSpan(`chat ${model}`, { attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': model, ...attributes } });
    span.end();
  };

  it('prices gen_ai spans sent by the otlp-http (JSON) exporter, each usage part at its own price', async () => {
    const spans = recordSpans((p) =>
      chatSpan(p, 'otel-json-model', {
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.cache_read.input_tokens': 200,
        'gen_ai.usage.cache_creation.input_tokens': 100,
        'gen_ai.usage.output_tokens': 300,
        'gen_ai.usage.reasoning.output_tokens': 50,
      }),
    );
    const result = await exportWith(new OTLPHttpJsonExporter({ url: traceUrl(), headers: auth() }), spans);
    expect(result).toMatchObject({ code: 0 });
    const group = await groupOf('otel-json-model', (g) => g.requests >= 1 && g.unpricedRequests === 0);
    // input 900 x 0.000003 = 0.0027; cache_read 200 x 0.0000003 = 0.00006; cache_write 100 x 0.00000375 = 0.000375;
    // output 250 x 0.000015 = 0.00375; reasoning 50 x 0.00002 = 0.001. Sum: 0.007885.
    expect(group).toMatchObject({ requests: 1, inputTokens: 1200, cachedInputTokens: 200, cacheWriteTokens: 100, outputTokens: 300, reasoningTokens: 50, cost: '0.007885', estimatedRequests: 0 });

    // The same figures in the CSV export.
    const csv = await fetch(`${product.url}/admin/usage/costs.csv?groupBy=model`, { headers: { authorization: `Bearer ${product.adminKey}` } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).toBe('model,requests,inputTokens,cachedInputTokens,cacheWriteTokens,outputTokens,reasoningTokens,cost,unpricedRequests,missingUsageRequests,partialUsageRequests,errorRequests,estimatedRequests,cacheHitRequests');
    expect(lines).toContain('otel-json-model,1,1200,200,100,300,50,0.007885,0,0,0,0,0,0');
  });

  it('prices spans sent by the otlp-proto exporter with gzip, and ignores the application’s other spans', async () => {
    const spans = recordSpans((p) => {
      const tracer = p.getTracer('my-app');
      const agent = tracer.startSpan('invoke_agent planner', { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.request.model': 'otel-proto-model', 'gen_ai.usage.input_tokens': 999, 'gen_ai.usage.output_tokens': 999 } });
      agent.end();
      tracer.startSpan('GET /orders', { attributes: { 'http.request.method': 'GET' } }).end();
      chatSpan(p, 'otel-proto-model', { 'gen_ai.response.model': 'otel-proto-model', 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 200 });
    });
    expect(spans).toHaveLength(3);
    const result = await exportWith(new OTLPProtoExporter({ url: traceUrl(), headers: auth(), compression: 'gzip' as never }), spans);
    expect(result).toMatchObject({ code: 0 });
    const group = await groupOf('otel-proto-model', (g) => g.requests >= 1 && g.unpricedRequests === 0);
    // 1000 x 0.000003 + 200 x 0.000015 = 0.003 + 0.003; the agent span's usage is not counted again.
    expect(group).toMatchObject({ requests: 1, inputTokens: 1000, outputTokens: 200, cost: '0.006' });
  });

  it('prices a span sent three times (both encodings) once', async () => {
    const spans = recordSpans((p) => chatSpan(p, 'otel-dup-model', { 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 20 }));
    const proto = new OTLPProtoExporter({ url: traceUrl(), headers: auth() });
    const json = new OTLPHttpJsonExporter({ url: traceUrl(), headers: auth() });
    for (const exporter of [proto, json, proto]) expect(await exportWith(exporter, spans)).toMatchObject({ code: 0 });
    // A sentinel sent after the copies. Metering stores batches concurrently, so its being priced
    // does not prove every copy was handled first: the group is read again over a window after it,
    // where a late duplicate would show as a second request.
    expect(await exportWith(json, recordSpans((p) => chatSpan(p, 'otel-sentinel-model', { 'gen_ai.usage.input_tokens': 1, 'gen_ai.usage.output_tokens': 1 })))).toMatchObject({ code: 0 });
    await groupOf('otel-sentinel-model', (g) => g.requests >= 1);
    const settleUntil = Date.now() + 2_000;
    do {
      const group = await groupOf('otel-dup-model', (g) => g.requests >= 1 && g.unpricedRequests === 0);
      // 10 x 0.000003 + 20 x 0.000015 = 0.00003 + 0.0003
      expect(group).toMatchObject({ requests: 1, cost: '0.00033' });
      await new Promise((resolve) => setTimeout(resolve, 250));
    } while (Date.now() < settleUntil);
  });

  it('estimates a span that carries its text but no token counts with the definition’s tokenizer, marked estimated', async () => {
    const spans = recordSpans((p) =>
      chatSpan(p, 'otel-estimated-model', { 'gen_ai.input.messages': JSON.stringify([{ role: 'user', content: 'Hello world' }]), 'gen_ai.completion': 'Hi there!' }),
    );
    expect(await exportWith(new OTLPHttpJsonExporter({ url: traceUrl(), headers: auth() }), spans)).toMatchObject({ code: 0 });
    const group = await groupOf('otel-estimated-model', (g) => g.requests >= 1 && g.unpricedRequests === 0);
    // o200k_base: "Hello world" = 2 tokens, "Hi there!" = 3. 2 x 0.000001 + 3 x 0.000002 = 0.000008.
    expect(group).toMatchObject({ requests: 1, inputTokens: 2, outputTokens: 3, cost: '0.000008', estimatedRequests: 1 });
  });

  it('lists an unmatched model’s span as unpriced, then prices it once a definition exists and a re-price runs', async () => {
    const spans = recordSpans((p) => chatSpan(p, 'otel-late-model', { 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 100 }));
    expect(await exportWith(new OTLPHttpJsonExporter({ url: traceUrl(), headers: auth() }), spans)).toMatchObject({ code: 0 });
    await groupOf('otel-late-model', (g) => g.unpricedRequests === 1);
    const unpriced = await adminCall<{ items: { id: string; model: string; unpricedReason: string; source: string; traceId: string }[] }>(product, 'GET', '/admin/usage/unpriced?model=otel-late-model');
    expect(unpriced.items).toEqual([expect.objectContaining({ model: 'otel-late-model', unpricedReason: 'no_matching_definition', source: 'otlp', traceId: spans[0]!.spanContext().traceId })]);
    const id = unpriced.items[0]!.id;

    const definition = await adminCall<{ id: string }>(product, 'POST', '/admin/model-definitions', { name: 'def-otel-late', matchPattern: '^otel-late-model$', prices: { input: '0.000002', output: '0.00001' }, effectiveFrom: '2024-01-01T00:00:00Z' });
    const deadline = Date.now() + 10_000;
    let record: { priced: boolean; cost: string | null; definitionId: string | null; costBreakdown: unknown } | undefined;
    const changedIds: string[] = [];
    while (Date.now() < deadline) {
      // The re-price answers what it changed; the definition change may also have priced it in the background first.
      const result = await adminCall<{ changed: { id: string; priced: boolean; cost: string | null }[] }>(product, 'POST', '/admin/usage/unpriced/reprice');
      changedIds.push(...result.changed.filter((c) => c.priced).map((c) => c.id));
      record = await adminCall(product, 'GET', `/admin/usage/records/${id}`);
      if (record?.priced) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // 1000 x 0.000002 + 100 x 0.00001 = 0.002 + 0.001
    expect(record).toMatchObject({ priced: true, cost: '0.003', definitionId: definition.id, costBreakdown: { input: '0.002', output: '0.001' } });
    expect(changedIds.filter((c) => c === id).length).toBeLessThanOrEqual(1);
    expect((await adminCall<{ items: unknown[] }>(product, 'GET', '/admin/usage/unpriced?model=otel-late-model')).items).toEqual([]);
    const missing = await fetch(`${product.url}/admin/usage/records/usage_nope`, { headers: { authorization: `Bearer ${product.adminKey}` } });
    expect(missing.status).toBe(404);
  });

  describe('refusals, which store nothing', () => {
    const otlpJson = (span: Record<string, unknown>): string =>
      JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 't' }, spans: [span] }] }] });
    const goodSpan = (spanId: string): Record<string, unknown> => ({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId,
      name: 'chat otel-never-model',
      kind: 3,
      startTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
      endTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
        { key: 'gen_ai.request.model', value: { stringValue: 'otel-never-model' } },
        { key: 'gen_ai.usage.input_tokens', value: { intValue: '5' } },
        { key: 'gen_ai.usage.output_tokens', value: { intValue: 5 } },
      ],
    });
    const post = (body: Buffer | string, headers: Record<string, string>): Promise<Response> => fetch(traceUrl(), { method: 'POST', headers: { ...auth(), ...headers }, body });

    it('refuses a request without a valid gateway key with 401', async () => {
      const res = await fetch(traceUrl(), { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-gw-not-a-key' }, body: otlpJson(goodSpan('eee19b7ec3c1b174')) });
      expect(res.status).toBe(401);
    });

    it('refuses bytes that are not an OTLP protobuf export with 400', async () => {
      const res = await post(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': 'application/x-protobuf' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_otlp');
    });

    it('refuses wrong types with 400 naming the field, the good spans of the same export included', async () => {
      const body = JSON.stringify({
        resourceSpans: [{ scopeSpans: [{ spans: [goodSpan('eee19b7ec3c1b173'), { ...goodSpan('eee19b7ec3c1b172'), attributes: [{ key: 'gen_ai.usage.input_tokens', value: { intValue: 'many' } }] }] }] }],
      });
      const res = await post(body, { 'content-type': 'application/json' });
      expect(res.status).toBe(400);
      const error = ((await res.json()) as { error: { code: string; message: string; param: string } }).error;
      expect(error).toMatchObject({ code: 'invalid_otlp', param: 'resourceSpans[0].scopeSpans[0].spans[1].attributes[0].value.intValue' });
      const idAsNumber = await post(otlpJson({ ...goodSpan('eee19b7ec3c1b171'), traceId: 12345 }), { 'content-type': 'application/json' });
      expect(idAsNumber.status).toBe(400);
      expect(((await idAsNumber.json()) as { error: { param: string } }).error.param).toBe('resourceSpans[0].scopeSpans[0].spans[0].traceId');
    });

    it('refuses a 50 MB body with 413, and a gzip bomb once it inflates past the limit', async () => {
      const big = Buffer.alloc(50 * 1024 * 1024, 0x20);
      const res = await post(big, { 'content-type': 'application/json' }).catch((err: unknown) => err);
      // The gateway answers 413 and closes; fetch may see the answer or the closed connection.
      if (res instanceof Response) expect(res.status).toBe(413);
      else expect(String((res as Error).cause ?? res)).toMatch(/EPIPE|ECONNRESET|closed|terminated|other side/i);
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)); // ~64 KB that inflates to 64 MB
      expect(bomb.length).toBeLessThan(1024 * 1024);
      const bombed = await post(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      expect(bombed.status).toBe(413);
    });

    it('has stored none of the refused spans', async () => {
      // A valid export after the refused ones, of another model: once it is priced, the refused ones would have been too.
      const ok = await post(gzipSync(otlpJson({ ...goodSpan('eee19b7ec3c1b170'), attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }, { key: 'gen_ai.request.model', value: { stringValue: 'otel-sentinel-model' } }, { key: 'gen_ai.usage.input_tokens', value: { intValue: '1' } }] })), {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({});
      await groupOf('otel-sentinel-model', (g) => g.requests >= 2);
      const report = await adminCall<{ groups: Group[] }>(product, 'GET', '/admin/usage/costs?groupBy=model');
      expect(report.groups.map((g) => g.key)).not.toContain('otel-never-model');
    });
  });
});
