import { Controller, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import pg from 'pg';
import { ChangeEventHandler, CommandHandler } from '#libs/bus';
import { Decimal } from '#libs/money';
import { GatewayAttr, GenAiAttr, QUEUE_GROUPS, type CostReportView, type CostsQueryDto, type KeySpendEvent, type LastUsedBatch, type ModelDefinitionView, type SpanAttributeValue, type SpanRecord, type TenantScope } from '#libs/contracts';
import { startBusService } from '#libs/runtime';
import { createServiceHarness, envelope, eventually, type ServiceHarness } from '../../../test/support/service-harness.js';
import { startUsageMetering } from './usage-metering.module.js';
import { definitionView } from '../../../test/support/model-definition-view.js';

/*
 * One medium test file for the whole service: usage-metering against real Postgres (its migrations)
 * and the real bus and durable stream (NATS/JetStream with TEST_NATS_URL). Each test uses its own
 * organisation, so reports do not see each other's spans.
 */

const JAN_2025 = '2025-01-01T00:00:00.000Z';

/** The counts of a report group whose calls all had their usage read in full and none failed. */
const ALL_USAGE_READ = { missingUsageRequests: 0, partialUsageRequests: 0, errorRequests: 0, estimatedRequests: 0, cacheHitRequests: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };

/** Stands in for the model registry (built elsewhere): answers model-definitions.all with what a test sets. */
@Controller()
class FakeRegistryHandler {
  static definitions: ModelDefinitionView[] = [];
  static requests = 0;

  @CommandHandler('registry.v1.model-definitions.all', QUEUE_GROUPS.registry)
  all(): ModelDefinitionView[] {
    FakeRegistryHandler.requests++;
    return FakeRegistryHandler.definitions;
  }

  /** Each request is one write of last-used times in the real registry (one transaction). */
  static lastUsed: LastUsedBatch[] = [];

  @CommandHandler('registry.v1.last-used.record', QUEUE_GROUPS.registry)
  lastUsedRecord(@Payload() batch: LastUsedBatch): { definitions: number; providerModels: number } {
    FakeRegistryHandler.lastUsed.push(batch);
    return { definitions: batch.definitions.length, providerModels: batch.providerModels.length };
  }
}

/** Stands in for the gateway replicas: every key-spend event metering publishes. */
@Controller()
class FakeGatewaySpendHandler {
  static events: KeySpendEvent[] = [];

  @ChangeEventHandler('metering.v1.events.key-spend')
  spent(@Payload() event: KeySpendEvent): void {
    FakeGatewaySpendHandler.events.push(event);
  }

  /** The cost every event so far reported for the key, summed exactly. */
  static total(keyId: string): string {
    let sum = new Decimal(0);
    for (const e of FakeGatewaySpendHandler.events) for (const i of e.increments) if (i.keyId === keyId) sum = sum.plus(i.cost);
    return sum.toString();
  }
}

@Module({ controllers: [FakeRegistryHandler, FakeGatewaySpendHandler] })
class FakeRegistryModule {}

function definition(d: Partial<ModelDefinitionView> & { id: string; organisationId: string; matchPattern: string; prices: Record<string, string> }): ModelDefinitionView {
  const { prices, ...rest } = d;
  return definitionView({ createdAt: JAN_2025, updatedAt: JAN_2025, ...rest, priceVersions: [{ effectiveFrom: JAN_2025, prices }] });
}

FakeRegistryHandler.definitions = [
  definition({ id: 'def_priced', organisationId: 'org-priced', matchPattern: '(?i)^gpt-4o$', prices: { input: '0.0000025', output: '0.00001' } }),
  definition({ id: 'def_dup', organisationId: 'org-dup', matchPattern: '^gpt-4o$', prices: { input: '0.0000025', output: '0.00001' } }),
  definition({ id: 'def_cache_hit', organisationId: 'org-cache-hit', matchPattern: '^gpt-4o$', prices: { input: '0.0000025', output: '0.00001' } }),
  definition({ id: 'def_same_ids_a', organisationId: 'org-same-ids-a', matchPattern: '^gpt-4o$', prices: { input: '0.0000025', output: '0.00001' } }),
  definition({ id: 'def_same_ids_b', organisationId: 'org-same-ids-b', matchPattern: '^gpt-4o$', prices: { input: '0.0000025', output: '0.00001' } }),
  definition({ id: 'def_unknown', organisationId: 'org-unknown', matchPattern: '^gpt-4o$', prices: { input: '0.0000025', output: '0.00001' } }),
  definition({ id: 'def_groups_org', organisationId: 'org-groups', matchPattern: '^gpt-4o$', prices: { input: '0.000001', output: '0.000002' } }),
  // proj-b has its own, dearer price for the same model: its spans must use it.
  definition({ id: 'def_groups_proj_b', organisationId: 'org-groups', projectId: 'proj-b', matchPattern: '^gpt-4o$', prices: { input: '0.00001', output: '0.00002' } }),
  definition({ id: 'def_traces', organisationId: 'org-traces', matchPattern: '^gpt-4o$', prices: { input: '0.000001', output: '0.000002' } }),
  definition({ id: 'def_other', organisationId: 'org-other', matchPattern: '^gpt-4o$', prices: { input: '1', output: '1' } }),
  definition({ id: 'def_missing', organisationId: 'org-missing', matchPattern: '^gpt-4o$', prices: { input: '0.0000025', output: '0.00001' } }),
  definition({ id: 'def_key_spend', organisationId: 'org-key-spend', matchPattern: '^gpt-4o$', prices: { input: '0.0000025', output: '0.00001' } }),
  definition({ id: 'def_missing_dup', organisationId: 'org-missing-dup', matchPattern: '^gpt-4o$', prices: { input: '0.0000025', output: '0.00001' } }),
];

let h: ServiceHarness;
let db: pg.Client;

beforeAll(async () => {
  h = await createServiceHarness('usage_metering');
  await h.start((runtime) => startBusService('fake-registry', FakeRegistryModule, runtime));
  await h.start(startUsageMetering);
  db = new pg.Client({ connectionString: h.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await h?.close();
});

let seq = 0;
const runId = Date.now().toString(36);

interface SpanSpec {
  organisationId: string;
  projectId?: string | null;
  keyId?: string | null;
  model: string;
  input: number;
  output: number;
  operation?: string;
  startedAt?: Date;
  extra?: Record<string, SpanAttributeValue>;
  spanId?: string;
}

function llmSpan(s: SpanSpec): SpanRecord {
  seq++;
  const start = BigInt((s.startedAt ?? new Date()).getTime()) * 1_000_000n;
  return {
    traceId: `trace-${runId}-${seq}`,
    spanId: s.spanId ?? `span-${runId}-${seq}`,
    parentSpanId: null,
    name: `chat ${s.model}`,
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: (start + 1_000_000n).toString(),
    status: { code: 'ok' },
    attributes: {
      [GenAiAttr.operationName]: s.operation ?? 'chat',
      [GenAiAttr.requestModel]: s.model,
      [GenAiAttr.inputTokens]: s.input,
      [GenAiAttr.outputTokens]: s.output,
      ...s.extra,
    },
    organisationId: s.organisationId,
    projectId: s.projectId ?? null,
    keyId: s.keyId ?? null,
    source: 'gateway',
  };
}

interface GatewayCallSpec {
  organisationId: string;
  model: string;
  /** Absent: the gateway could not read the call's usage. */
  usage?: { input: number; output: number };
  usageStatus?: string;
  /** The call failed with this error.type. */
  errorType?: string;
}

/** A span as the gateway's /v1 handler records one call (see GatewayAttr): with usage, or without. */
function gatewayCallSpan(c: GatewayCallSpec): SpanRecord {
  const span = llmSpan({ organisationId: c.organisationId, model: c.model, input: c.usage?.input ?? 0, output: c.usage?.output ?? 0 });
  if (!c.usage) {
    delete span.attributes[GenAiAttr.inputTokens];
    delete span.attributes[GenAiAttr.outputTokens];
  }
  span.attributes[GatewayAttr.model] = `gw-${c.model}`;
  span.attributes[GatewayAttr.connectionId] = 'conn-1';
  if (c.usageStatus) span.attributes[GatewayAttr.usageStatus] = c.usageStatus;
  if (c.errorType) {
    span.status = { code: 'error', message: c.errorType };
    span.attributes['error.type'] = c.errorType;
  }
  return span;
}

async function publish(spans: SpanRecord[]): Promise<void> {
  const batchId = `batch-${runId}-${++seq}`;
  await h.runtime.durable.publish('telemetry.v1.spans', { batchId, spans }, batchId);
}

function report(organisationId: string, input: CostsQueryDto = {}, projectId: string | null = null, harness = h): Promise<CostReportView> {
  const scope: TenantScope = { organisationId, projectId };
  return harness.bus.request('metering.v1.costs.report', envelope(input, scope));
}

function requestsIn(r: CostReportView): number {
  return r.groups.reduce((n, g) => n + g.requests, 0);
}

async function reportWith(organisationId: string, requests: number, input: CostsQueryDto = {}): Promise<CostReportView> {
  return eventually(() => report(organisationId, input), (r) => requestsIn(r) >= requests, `${requests} requests in ${organisationId}'s report`, 15_000);
}

describe('usage-metering', () => {
  it('refuses a cost report without an organisation as validation_failed on scope.organisationId', async () => {
    for (const scope of [undefined, { projectId: null }, { organisationId: '', projectId: null }]) {
      await expect(h.bus.request('metering.v1.costs.report', { scope, actor: { keyId: 'k', name: 'n' }, input: {} } as never)).rejects.toMatchObject({
        code: 'validation_failed',
        details: expect.arrayContaining([expect.objectContaining({ field: 'scope.organisationId' })]),
      });
    }
  });

  it('answers its ping once its migrations have run', async () => {
    await expect(h.bus.request('metering.v1.ping', {})).resolves.toEqual({ service: 'usage-metering', ok: true });
  });

  it('sums the priced calls of each trace id within the caller\'s scope only (the evaluator\'s rows and playground answers)', async () => {
    const hex = Date.now().toString(16);
    const t1 = hex.padEnd(32, 'a');
    const t2 = hex.padEnd(32, 'b');
    const inTrace = (traceId: string, projectId: string, model = 'gpt-4o') => ({ ...llmSpan({ organisationId: 'org-traces', projectId, model, input: 100, output: 10 }), traceId });
    await publish([inTrace(t1, 'proj-a'), inTrace(t1, 'proj-a'), inTrace(t1, 'proj-b'), inTrace(t2, 'proj-a', 'model-with-no-definition')]);
    const costs = (projectId: string | null) =>
      h.bus.request('metering.v1.usage.by-traces', envelope({ traceIds: [t1, t2, 'f'.repeat(32)] }, { organisationId: 'org-traces', projectId }));
    const all = await eventually(() => costs(null), (r) => r.traces.reduce((n, t) => n + t.calls, 0) === 4, 'the four spans recorded');
    // Each call: 100 x 0.000001 + 10 x 0.000002 = 0.00012.
    expect(all.traces.sort((a, b) => a.traceId.localeCompare(b.traceId))).toEqual([
      { traceId: t1, calls: 3, unpricedCalls: 0, cost: '0.00036' },
      { traceId: t2, calls: 1, unpricedCalls: 1, cost: null },
    ]);
    expect((await costs('proj-a')).traces.find((t) => t.traceId === t1)).toEqual({ traceId: t1, calls: 2, unpricedCalls: 0, cost: '0.00024' });
    expect((await costs('proj-b')).traces).toEqual([{ traceId: t1, calls: 1, unpricedCalls: 0, cost: '0.00012' }]);
    expect((await h.bus.request('metering.v1.usage.by-traces', envelope({ traceIds: [t1] }, { organisationId: 'org-other', projectId: null }))).traces).toEqual([]);
    await expect(h.bus.request('metering.v1.usage.by-traces', envelope({ traceIds: ['not-a-trace-id'] }, { organisationId: 'org-traces', projectId: null }))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [expect.objectContaining({ field: 'traceIds' })],
    });
  });

  it('prices a chat span at its tokens times the definition’s prices, exactly', async () => {
    await publish([llmSpan({ organisationId: 'org-priced', model: 'GPT-4o', input: 1234, output: 567 })]);
    const r = await reportWith('org-priced', 1);
    // 1234 x 0.0000025 = 0.003085; 567 x 0.00001 = 0.00567; total 0.008755
    expect(r).toMatchObject({
      currency: 'USD',
      groupBy: 'model',
      groups: [{ key: 'GPT-4o', requests: 1, inputTokens: 1234, outputTokens: 567, cost: '0.008755', unpricedRequests: 0, ...ALL_USAGE_READ }],
      totalCost: '0.008755',
    });
    const rows = await db.query(`SELECT cost::text AS cost, cost_breakdown, definition_id, priced, price_effective_from FROM metering.usage_records WHERE organisation_id = 'org-priced'`);
    expect(rows.rows).toEqual([
      { cost: '0.008755', cost_breakdown: { input: '0.003085', output: '0.00567' }, definition_id: 'def_priced', priced: true, price_effective_from: new Date(JAN_2025) },
    ]);
  });

  it('prices a response-cache hit at 0 beside the call it repeats, and counts it as a cache hit', async () => {
    const original = gatewayCallSpan({ organisationId: 'org-cache-hit', model: 'gpt-4o', usage: { input: 1000, output: 100 } });
    const hit = gatewayCallSpan({ organisationId: 'org-cache-hit', model: 'gpt-4o', usage: { input: 1000, output: 100 } });
    hit.attributes[GatewayAttr.cacheHit] = true;
    await publish([original, hit]);
    const r = await reportWith('org-cache-hit', 2);
    // Only the original is paid: 1000 x 0.0000025 + 100 x 0.00001 = 0.0035.
    expect(r.groups).toEqual([{ key: 'gpt-4o', requests: 2, inputTokens: 2000, outputTokens: 200, cost: '0.0035', unpricedRequests: 0, ...ALL_USAGE_READ, cacheHitRequests: 1 }]);
    const rows = await db.query(`SELECT span_id, cost::text AS cost, priced, cache_hit, cost_breakdown FROM metering.usage_records WHERE organisation_id = 'org-cache-hit' ORDER BY cache_hit`);
    expect(rows.rows).toEqual([
      { span_id: original.spanId, cost: '0.0035', priced: true, cache_hit: false, cost_breakdown: { input: '0.0025', output: '0.001' } },
      { span_id: hit.spanId, cost: '0', priced: true, cache_hit: true, cost_breakdown: {} },
    ]);
  });

  it('records a span once when the same spans arrive again in a batch with a new id', async () => {
    const span = llmSpan({ organisationId: 'org-dup', model: 'gpt-4o', input: 1000, output: 100 });
    await publish([span]);
    await reportWith('org-dup', 1);
    // The same span again, with a marker span: once the marker is counted, the batch has been handled.
    const marker = llmSpan({ organisationId: 'org-dup', model: 'gpt-4o', input: 10, output: 0 });
    await publish([span, span, marker]);
    const r = await reportWith('org-dup', 2);
    // span: 1000 x 0.0000025 + 100 x 0.00001 = 0.0035; marker: 10 x 0.0000025 = 0.000025
    expect(r.groups).toEqual([{ key: 'gpt-4o', requests: 2, inputTokens: 1010, outputTokens: 100, cost: '0.003525', unpricedRequests: 0, ...ALL_USAGE_READ }]);
    const count = await db.query(`SELECT count(*)::int AS n FROM metering.usage_records WHERE trace_id = $1 AND span_id = $2`, [span.traceId, span.spanId]);
    expect(count.rows[0].n).toBe(1);
  });

  it('reports each key’s spend once per stored record: a span delivered again is never spent twice, and the totals answer a starting gateway', async () => {
    const keyId = `key-spend-${runId}`;
    // Spend is kept per UTC day: start with half a minute of the day left, so every span below falls on `day`.
    const toMidnight = 86_400_000 - (Date.now() % 86_400_000);
    if (toMidnight < 30_000) await new Promise((r) => setTimeout(r, toMidnight + 100));
    const day = new Date().toISOString().slice(0, 10);
    const span = llmSpan({ organisationId: 'org-key-spend', keyId, model: 'gpt-4o', input: 1000, output: 100 });
    await publish([span, llmSpan({ organisationId: 'org-key-spend', keyId: null, model: 'gpt-4o', input: 5, output: 5 })]);
    await eventually(async () => FakeGatewaySpendHandler.total(keyId), (t) => t === '0.0035', 'the first spend event', 15_000);
    expect(FakeGatewaySpendHandler.events.flatMap((e) => e.increments).find((i) => i.keyId === keyId)).toEqual({ keyId, day, cost: '0.0035' });
    // The same span again beside a new one: only the new one's cost is reported.
    await publish([span, llmSpan({ organisationId: 'org-key-spend', keyId, model: 'gpt-4o', input: 10, output: 0 })]);
    await eventually(async () => FakeGatewaySpendHandler.total(keyId), (t) => t !== '0.0035', 'the second spend event', 15_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(FakeGatewaySpendHandler.total(keyId)).toBe('0.003525');
    const totals = await h.bus.request('metering.v1.key-spend.current', { since: day });
    expect(totals.spend.filter((s) => s.keyId === keyId)).toEqual([{ keyId, day, cost: '0.003525' }]);
    await expect(h.bus.request('metering.v1.key-spend.current', { since: 'yesterday' })).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('stores the same trace and span ids of two organisations apart, each priced once however often it comes', async () => {
    const first = llmSpan({ organisationId: 'org-same-ids-a', model: 'gpt-4o', input: 1000, output: 100 });
    const second = { ...first, organisationId: 'org-same-ids-b', attributes: { ...first.attributes, [GenAiAttr.inputTokens]: 2000 } };
    await publish([first, second]);
    await publish([second, first]);
    await publish([first]);
    const a = await reportWith('org-same-ids-a', 1);
    const b = await reportWith('org-same-ids-b', 1);
    // a: 1000 x 0.0000025 + 100 x 0.00001 = 0.0035; b: 2000 x 0.0000025 + 0.001 = 0.006
    expect(a.groups).toEqual([{ key: 'gpt-4o', requests: 1, inputTokens: 1000, outputTokens: 100, cost: '0.0035', unpricedRequests: 0, ...ALL_USAGE_READ }]);
    expect(b.groups).toEqual([{ key: 'gpt-4o', requests: 1, inputTokens: 2000, outputTokens: 100, cost: '0.006', unpricedRequests: 0, ...ALL_USAGE_READ }]);
    const rows = await db.query(`SELECT organisation_id FROM metering.usage_records WHERE trace_id = $1 AND span_id = $2 ORDER BY 1`, [first.traceId, first.spanId]);
    expect(rows.rows.map((r: { organisation_id: string }) => r.organisation_id)).toEqual(['org-same-ids-a', 'org-same-ids-b']);
  });

  it('stores ids and a model name with tabs, newlines, backslashes and non-ASCII exactly as sent', async () => {
    const model = 'odd\tmodel\nname\\N \\. modèle 模型 😀';
    const span = llmSpan({ organisationId: 'org-odd-text', keyId: 'key\\with\rcr', model, input: 3, output: 4 });
    await publish([span]);
    await reportWith('org-odd-text', 1);
    const rows = await db.query(`SELECT model, key_id, project_id, input_tokens::int AS input, cost FROM metering.usage_records WHERE organisation_id = 'org-odd-text'`);
    expect(rows.rows).toEqual([{ model, key_id: 'key\\with\rcr', project_id: null, input: 3, cost: null }]);
  });

  it('leaves an unknown model unpriced and counts it as unpriced, not as $0', async () => {
    await publish([
      llmSpan({ organisationId: 'org-unknown', model: 'mystery-model', input: 500, output: 50 }),
      llmSpan({ organisationId: 'org-unknown', model: 'gpt-4o', input: 1000, output: 0 }),
    ]);
    const r = await reportWith('org-unknown', 2);
    expect(r.groups).toEqual([
      { key: 'gpt-4o', requests: 1, inputTokens: 1000, outputTokens: 0, cost: '0.0025', unpricedRequests: 0, ...ALL_USAGE_READ },
      { key: 'mystery-model', requests: 1, inputTokens: 500, outputTokens: 50, cost: '0', unpricedRequests: 1, ...ALL_USAGE_READ },
    ]);
    expect(r.totalCost).toBe('0.0025');
    const rows = await db.query(`SELECT cost, priced, unpriced_reason FROM metering.usage_records WHERE model = 'mystery-model'`);
    expect(rows.rows).toEqual([{ cost: null, priced: false, unpriced_reason: 'no_matching_definition' }]);
  });

  it('does not price an agent span that repeats its children’s usage', async () => {
    await publish([
      llmSpan({ organisationId: 'org-priced', model: 'gpt-4o', input: 1234, output: 567, operation: 'invoke_agent' }),
      llmSpan({ organisationId: 'org-priced', model: 'gpt-4o', input: 4, output: 0, spanId: `agent-marker-${runId}` }),
    ]);
    const r = await reportWith('org-priced', 2);
    expect(requestsIn(r)).toBe(2);
    expect(r.groups.find((g) => g.key === 'gpt-4o')).toEqual({ key: 'gpt-4o', requests: 1, inputTokens: 4, outputTokens: 0, cost: '0.00001', unpricedRequests: 0, ...ALL_USAGE_READ });
  });

  it('prices a span that arrived before its definition once the definition is published', async () => {
    await publish([llmSpan({ organisationId: 'org-late', model: 'late-model', input: 2000, output: 300, extra: { [GenAiAttr.cacheReadTokens]: 1500 } })]);
    const before = await reportWith('org-late', 1);
    expect(before.groups).toEqual([{ key: 'late-model', requests: 1, inputTokens: 2000, outputTokens: 300, cost: '0', unpricedRequests: 1, ...ALL_USAGE_READ, cachedInputTokens: 1500 }]);

    const late = definition({ id: 'def_late', organisationId: 'org-late', matchPattern: '^late-model$', prices: { input: '0.000003', cache_read: '0.0000003', output: '0.000015' } });
    FakeRegistryHandler.definitions = [...FakeRegistryHandler.definitions, late];
    await h.bus.publish('registry.v1.events.model-definition-changed', { id: late.id, scope: { organisationId: 'org-late', projectId: null }, change: 'created', at: new Date().toISOString() });

    const after = await eventually(() => report('org-late'), (r) => r.groups[0]?.unpricedRequests === 0, 'the late span to be priced', 15_000);
    // uncached 500 x 0.000003 = 0.0015; cache_read 1500 x 0.0000003 = 0.00045; output 300 x 0.000015 = 0.0045; total 0.00645
    expect(after.groups).toEqual([{ key: 'late-model', requests: 1, inputTokens: 2000, outputTokens: 300, cost: '0.00645', unpricedRequests: 0, ...ALL_USAGE_READ, cachedInputTokens: 1500 }]);
    expect(after.totalCost).toBe('0.00645');
  });

  it('groups by provider, connection, provider model, end user, UTC day and hour, with tokens by usage type', async () => {
    const at = (iso: string): string => String(BigInt(Date.parse(iso)) * 1_000_000n);
    const a = gatewayCallSpan({ organisationId: 'org-dims', model: 'gpt-4o', usage: { input: 1000, output: 100 }, usageStatus: 'reported' });
    a.attributes[GenAiAttr.providerName] = 'openai';
    a.attributes['gateway.connection_id'] = 'conn_1';
    a.attributes[GenAiAttr.cacheReadTokens] = 400;
    a.attributes[GenAiAttr.reasoningTokens] = 30;
    a.startTimeUnixNano = at('2026-03-01T10:15:00Z');
    const b = { ...llmSpan({ organisationId: 'org-dims', model: 'gpt-4o', input: 10, output: 1 }), source: 'otlp' as const, startTimeUnixNano: at('2026-03-02T23:59:59Z') };
    b.attributes['gen_ai.system'] = 'openai';
    a.attributes['gateway.user'] = 'alice';
    b.attributes['user.id'] = 'bob';
    b.attributes[GenAiAttr.cacheCreationTokens] = 5;
    await publish([a, b]);
    const window = { from: '2026-03-01T00:00:00Z', to: '2026-03-03T00:00:00Z' };
    await reportWith('org-dims', 2, window);
    const keys = async (groupBy: CostsQueryDto['groupBy']): Promise<[string, number][]> => (await report('org-dims', { ...window, groupBy })).groups.map((g) => [g.key, g.requests]);
    expect(await keys('provider')).toEqual([['openai', 2]]);
    expect((await keys('connection')).sort()).toEqual([['(none)', 1], ['conn_1', 1]]);
    expect((await keys('provider_model')).sort()).toEqual([['(none)', 1], ['gw-gpt-4o', 1]]);
    expect((await keys('user')).sort()).toEqual([['alice', 1], ['bob', 1]]);
    expect(await keys('day')).toEqual([['2026-03-01', 1], ['2026-03-02', 1]]);
    expect(await keys('hour')).toEqual([['2026-03-01T10:00Z', 1], ['2026-03-02T23:00Z', 1]]);
    const total = (await report('org-dims', { ...window, groupBy: 'provider' })).groups[0]!;
    expect(total).toMatchObject({ inputTokens: 1010, cachedInputTokens: 400, cacheWriteTokens: 5, outputTokens: 101, reasoningTokens: 30 });
  });

  it('lists records newest first a page at a time, filters them, and shows one with its price version and cost breakdown', async () => {
    const at = (iso: string): string => String(BigInt(Date.parse(iso)) * 1_000_000n);
    const spans = [1, 2, 3].map((n) => ({ ...llmSpan({ organisationId: 'org-dup', model: 'gpt-4o', input: 100 * n, output: 10 }), startTimeUnixNano: at(`2026-04-0${n}T00:00:00Z`) }));
    const unknown = { ...llmSpan({ organisationId: 'org-dup', model: 'nobody-prices-me', input: 5, output: 5 }), startTimeUnixNano: at('2026-04-04T00:00:00Z') };
    await publish([...spans, unknown]);
    const window = { from: '2026-04-01T00:00:00Z', to: '2026-05-01T00:00:00Z' };
    await reportWith('org-dup', 4, window);
    const list = (input: Record<string, unknown>) => h.bus.request('metering.v1.records.list', { scope: { organisationId: 'org-dup', projectId: null }, actor: { keyId: 'k', name: 'n' }, input: { ...window, ...input } });
    const first = await list({ limit: 2 });
    expect(first.items.map((r) => r.model)).toEqual(['nobody-prices-me', 'gpt-4o']);
    expect(first.nextCursor).not.toBeNull();
    const second = await list({ limit: 2, cursor: first.nextCursor });
    expect(second.items.map((r) => r.inputTokens)).toEqual([200, 100]);
    expect(second.nextCursor).toBeNull();
    const unpriced = await list({ priced: 'false' });
    expect(unpriced.items).toEqual([expect.objectContaining({ model: 'nobody-prices-me', priced: false, cost: null, unpricedReason: 'no_matching_definition' })]);
    await expect(list({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'validation_failed' });

    const one = await h.bus.request('metering.v1.records.get', { scope: { organisationId: 'org-dup', projectId: null }, actor: { keyId: 'k', name: 'n' }, input: { id: second.items[1]!.id } });
    // 100 x 0.0000025 + 10 x 0.00001 = 0.00025 + 0.0001
    expect(one).toMatchObject({ cost: '0.00035', costBreakdown: { input: '0.00025', output: '0.0001' }, definitionId: 'def_dup', priceEffectiveFrom: expect.any(String), estimated: false, usageStatus: 'reported' });
    await expect(h.bus.request('metering.v1.records.get', { scope: { organisationId: 'org-other', projectId: null }, actor: { keyId: 'k', name: 'n' }, input: { id: one.id } })).rejects.toMatchObject({ code: 'not_found' });
  });

  describe('a record for every call the gateway answered', () => {
    let reported: SpanRecord;
    let missing: SpanRecord;
    let failed: SpanRecord;
    let partial: SpanRecord;
    let otlpWithoutUsage: SpanRecord;

    beforeAll(async () => {
      reported = gatewayCallSpan({ organisationId: 'org-missing', model: 'gpt-4o', usage: { input: 1234, output: 567 }, usageStatus: 'reported' }); // 0.008755
      // A stream whose usage event the gateway could not read: today's gateway sets no status.
      missing = gatewayCallSpan({ organisationId: 'org-missing', model: 'gpt-4o' });
      failed = gatewayCallSpan({ organisationId: 'org-missing', model: 'gpt-4o', usageStatus: 'missing', errorType: 'rate_limited' });
      // Cut short after 100 input and 40 output tokens: 100 x 0.0000025 + 40 x 0.00001 = 0.00065
      partial = gatewayCallSpan({ organisationId: 'org-missing', model: 'gpt-4o', usage: { input: 100, output: 40 }, usageStatus: 'partial', errorType: 'ClientGone' });
      otlpWithoutUsage = { ...gatewayCallSpan({ organisationId: 'org-missing', model: 'gpt-4o' }), source: 'otlp' };
      await publish([reported, missing, otlpWithoutUsage, failed, partial]);
      await reportWith('org-missing', 4);
    });

    it('stores a gateway call without usage as usage-missing, with no cost and its error type', async () => {
      const rows = await db.query(
        `SELECT span_id, usage_status, error_type, priced, cost::text AS cost, unpriced_reason, input_tokens::int AS input, output_tokens::int AS output
           FROM metering.usage_records WHERE organisation_id = 'org-missing' ORDER BY span_id`,
      );
      expect(rows.rows).toEqual(
        [
          { span_id: reported.spanId, usage_status: 'reported', error_type: null, priced: true, cost: '0.008755', unpriced_reason: null, input: 1234, output: 567 },
          { span_id: missing.spanId, usage_status: 'missing', error_type: null, priced: false, cost: null, unpriced_reason: 'usage_missing', input: 0, output: 0 },
          { span_id: failed.spanId, usage_status: 'missing', error_type: 'rate_limited', priced: false, cost: null, unpriced_reason: 'usage_missing', input: 0, output: 0 },
          { span_id: partial.spanId, usage_status: 'partial', error_type: 'ClientGone', priced: true, cost: '0.00065', unpriced_reason: null, input: 100, output: 40 },
        ].sort((a, b) => (a.span_id < b.span_id ? -1 : 1)),
      );
    });

    it('does not store a span from another producer that has no usage', async () => {
      const rows = await db.query(`SELECT count(*)::int AS n FROM metering.usage_records WHERE span_id = $1`, [otlpWithoutUsage.spanId]);
      expect(rows.rows[0].n).toBe(0);
    });

    it('counts calls with missing usage in the report beside unpriced ones, and in the requests', async () => {
      const r = await report('org-missing');
      expect(r.groups).toEqual([
        { key: 'gpt-4o', requests: 4, inputTokens: 1334, outputTokens: 607, cost: '0.009405', unpricedRequests: 0, missingUsageRequests: 2, partialUsageRequests: 1, errorRequests: 2, estimatedRequests: 0, cacheHitRequests: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
      ]);
      expect(r.totalCost).toBe('0.009405');
    });

    it('never prices a usage-missing call, not even at $0 once re-pricing runs', async () => {
      // A definition change makes the re-pricer walk the unpriced records; a late span shows when it has.
      await publish([gatewayCallSpan({ organisationId: 'org-missing', model: 'late-missing', usage: { input: 10, output: 0 } })]);
      await reportWith('org-missing', 5);
      const late = definition({ id: 'def_late_missing', organisationId: 'org-missing', matchPattern: '^late-missing$', prices: { input: '0.001', output: '0.001' } });
      FakeRegistryHandler.definitions = [...FakeRegistryHandler.definitions, late];
      await h.bus.publish('registry.v1.events.model-definition-changed', { id: late.id, scope: { organisationId: 'org-missing', projectId: null }, change: 'created', at: new Date().toISOString() });
      await eventually(() => report('org-missing'), (r) => r.groups.every((g) => g.unpricedRequests === 0), 'the late span to be priced', 15_000);
      const rows = await db.query(`SELECT priced, cost FROM metering.usage_records WHERE usage_status = 'missing' AND organisation_id = 'org-missing'`);
      expect(rows.rows).toEqual([
        { priced: false, cost: null },
        { priced: false, cost: null },
      ]);
    });
  });

  it('records a usage-missing call once when its span arrives again', async () => {
    const missing = gatewayCallSpan({ organisationId: 'org-missing-dup', model: 'gpt-4o', usageStatus: 'missing', errorType: 'upstream_error' });
    await publish([missing]);
    await reportWith('org-missing-dup', 1);
    // Twice again, in a batch with a new id, with a marker: once the marker is counted, the batch has been handled.
    const marker = gatewayCallSpan({ organisationId: 'org-missing-dup', model: 'gpt-4o', usage: { input: 10, output: 0 } });
    await publish([missing, missing, marker]);
    const r = await reportWith('org-missing-dup', 2);
    expect(r.groups).toEqual([
      { key: 'gpt-4o', requests: 2, inputTokens: 10, outputTokens: 0, cost: '0.000025', unpricedRequests: 0, missingUsageRequests: 1, partialUsageRequests: 0, errorRequests: 1, estimatedRequests: 0, cacheHitRequests: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
    ]);
    const count = await db.query(`SELECT count(*)::int AS n FROM metering.usage_records WHERE trace_id = $1 AND span_id = $2`, [missing.traceId, missing.spanId]);
    expect(count.rows[0].n).toBe(1);
  });

  describe('grouping and tenancy', () => {
    beforeAll(async () => {
      await publish([
        // org-wide price: input 0.000001, output 0.000002
        llmSpan({ organisationId: 'org-groups', projectId: 'proj-a', keyId: 'key-1', model: 'gpt-4o', input: 1000, output: 100 }), // 0.0012
        llmSpan({ organisationId: 'org-groups', projectId: 'proj-a', keyId: 'key-2', model: 'gpt-4o', input: 3000, output: 0 }), // 0.003
        // proj-b's own price: input 0.00001, output 0.00002
        llmSpan({ organisationId: 'org-groups', projectId: 'proj-b', keyId: 'key-1', model: 'gpt-4o', input: 100, output: 10 }), // 0.0012
        llmSpan({ organisationId: 'org-groups', projectId: 'proj-b', keyId: 'key-3', model: 'unknown-x', input: 7, output: 7 }), // unpriced
        llmSpan({ organisationId: 'org-groups', model: 'gpt-4o', input: 5, output: 0 }), // org-wide call, no key: 0.000005
        // Another organisation, with the same project and key ids: never in org-groups' reports.
        llmSpan({ organisationId: 'org-other', projectId: 'proj-a', keyId: 'key-1', model: 'gpt-4o', input: 1, output: 1 }), // 2
      ]);
      await reportWith('org-groups', 5);
    });

    it('groups by key, most expensive first, unpriced calls counted apart', async () => {
      const r = await report('org-groups', { groupBy: 'key' });
      expect(r.groups).toEqual([
        { key: 'key-2', requests: 1, inputTokens: 3000, outputTokens: 0, cost: '0.003', unpricedRequests: 0, ...ALL_USAGE_READ },
        { key: 'key-1', requests: 2, inputTokens: 1100, outputTokens: 110, cost: '0.0024', unpricedRequests: 0, ...ALL_USAGE_READ },
        { key: '(none)', requests: 1, inputTokens: 5, outputTokens: 0, cost: '0.000005', unpricedRequests: 0, ...ALL_USAGE_READ },
        { key: 'key-3', requests: 1, inputTokens: 7, outputTokens: 7, cost: '0', unpricedRequests: 1, ...ALL_USAGE_READ },
      ]);
      expect(r.totalCost).toBe('0.005405');
    });

    it('groups by project, using a project’s own definition before the organisation’s', async () => {
      const r = await report('org-groups', { groupBy: 'project' });
      expect(r.groups).toEqual([
        { key: 'proj-a', requests: 2, inputTokens: 4000, outputTokens: 100, cost: '0.0042', unpricedRequests: 0, ...ALL_USAGE_READ },
        { key: 'proj-b', requests: 2, inputTokens: 107, outputTokens: 17, cost: '0.0012', unpricedRequests: 1, ...ALL_USAGE_READ },
        { key: '(none)', requests: 1, inputTokens: 5, outputTokens: 0, cost: '0.000005', unpricedRequests: 0, ...ALL_USAGE_READ },
      ]);
    });

    it('shows a project-scoped caller only its project’s usage', async () => {
      const r = await report('org-groups', { groupBy: 'key' }, 'proj-b');
      expect(r.groups.map((g) => [g.key, g.cost, g.unpricedRequests])).toEqual([
        ['key-1', '0.0012', 0],
        ['key-3', '0', 1],
      ]);
      expect(r.totalCost).toBe('0.0012');
    });

    it('never shows another organisation’s records', async () => {
      const other = await reportWith('org-other', 1, { groupBy: 'project' });
      expect(other.groups).toEqual([{ key: 'proj-a', requests: 1, inputTokens: 1, outputTokens: 1, cost: '2', unpricedRequests: 0, ...ALL_USAGE_READ }]);
      const groups = await report('org-groups', { groupBy: 'project' });
      expect(groups.groups.find((g) => g.key === 'proj-a')).toMatchObject({ requests: 2, cost: '0.0042' });
      const nobody = await report('org-nobody');
      expect(nobody).toMatchObject({ groups: [], totalCost: '0' });
    });
  });

  it('reports the last 30 days by default and an explicit window when asked', async () => {
    const old = new Date(Date.now() - 40 * 24 * 3600 * 1000);
    await publish([
      llmSpan({ organisationId: 'org-window', model: 'w', input: 1, output: 1, startedAt: old }),
      llmSpan({ organisationId: 'org-window', model: 'w', input: 1, output: 1 }),
    ]);
    const all = await reportWith('org-window', 2, { from: new Date(old.getTime() - 1000).toISOString() });
    expect(requestsIn(all)).toBe(2);
    const recent = await report('org-window');
    expect(requestsIn(recent)).toBe(1);
    expect(Date.parse(recent.to) - Date.parse(recent.from)).toBe(30 * 24 * 3600 * 1000);
    const before = await report('org-window', { to: new Date(old.getTime() + 1).toISOString() });
    expect(requestsIn(before)).toBe(1);
  });

  it('refuses a report query with an unknown grouping or a window that ends before it starts', async () => {
    await expect(report('org-priced', { groupBy: 'colour' as never })).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(report('org-priced', { from: '2025-02-01T00:00:00Z', to: '2025-01-01T00:00:00Z' })).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(h.bus.request('metering.v1.costs.report', { scope: { projectId: null }, actor: { keyId: 'k', name: 'k' }, input: {} } as never)).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });
});

describe('last used, kept from metering (issue 14 item 7)', () => {
  it('sends the registry at most one write per span batch, with the latest call per definition and gateway model', async () => {
    const before = FakeRegistryHandler.lastUsed.length;
    const t0 = Date.UTC(2026, 0, 1);
    const batches = 3;
    for (let b = 0; b < batches; b++) {
      await publish(
        Array.from({ length: 200 }, () => gatewayCallSpan({ organisationId: 'org-priced', model: 'gpt-4o', usage: { input: 10, output: 5 } })).map((span, i) => {
          const start = BigInt(t0 + b * 1000 + i) * 1_000_000n;
          return { ...span, startTimeUnixNano: start.toString(), endTimeUnixNano: (start + 1n).toString() };
        }),
      );
    }
    const writes = await eventually(
      () => FakeRegistryHandler.lastUsed.slice(before),
      (w) => w.some((batch) => batch.definitions.some((d) => d.id === 'def_priced' && d.at === new Date(t0 + (batches - 1) * 1000 + 199).toISOString())),
      'the last batch’s last-used times',
      15_000,
    );
    // 600 calls in 3 batches: at most 3 writes (fewer when batches arrive while one is in flight), never one per call.
    expect(writes.length).toBeGreaterThanOrEqual(1);
    expect(writes.length).toBeLessThanOrEqual(batches);
    // Batches are stored concurrently, so an earlier batch may be written last; the registry keeps the
    // later of two times, so what counts is the latest time each key was sent with.
    const latest = (pick: (w: (typeof writes)[number]) => { at: string }[]) => writes.flatMap(pick).map((x) => x.at).sort().at(-1);
    expect(writes.flatMap((w) => w.providerModels).every((m) => m.organisationId === 'org-priced' && m.name === 'gw-gpt-4o')).toBe(true);
    expect(latest((w) => w.providerModels)).toBe(new Date(t0 + (batches - 1) * 1000 + 199).toISOString());
  });
});

describe('usage-metering started before the model registry', () => {
  let early: ServiceHarness;

  beforeAll(async () => {
    // A short bus timeout, so the unanswered definitions request is retried quickly.
    early = await createServiceHarness('metering_early', { BUS_REQUEST_TIMEOUT_MS: '300' });
    await early.start(startUsageMetering);
  });
  afterAll(() => early?.close());

  it('leaves spans in the stream until the definitions are loaded, then prices them', async () => {
    const span = llmSpan({ organisationId: 'org-priced', model: 'gpt-4o', input: 1234, output: 567 });
    await early.runtime.durable.publish('telemetry.v1.spans', { batchId: `early-${runId}`, spans: [span] }, `early-${runId}`);
    await new Promise((r) => setTimeout(r, 1000));
    // Not consumed yet: no record at all, not even an unpriced one.
    await expect(report('org-priced', {}, null, early)).resolves.toMatchObject({ groups: [], totalCost: '0' });

    await early.start((runtime) => startBusService('fake-registry', FakeRegistryModule, runtime));
    const r = await eventually(() => report('org-priced', {}, null, early), (x) => x.groups.length > 0, 'the span to be recorded', 15_000);
    expect(r.groups).toEqual([{ key: 'gpt-4o', requests: 1, inputTokens: 1234, outputTokens: 567, cost: '0.008755', unpricedRequests: 0, ...ALL_USAGE_READ }]);
  });
});
