import { GatewayAttr, GenAiAttr, type SpanBatch, type SpanRecord } from '#libs/contracts';
import { definitionView } from '../../../../test/support/model-definition-view.js';
import { PriceCatalogue } from '../pricing/price-catalogue.js';
import { usageRecordsForBatch } from './new-usage-record.js';

const AT = '2025-01-01T00:00:00.000Z';
const catalogue = PriceCatalogue.build([
  definitionView({
    id: 'def_1',
    organisationId: 'org_a',
    projectId: null,
    name: 'gpt-4o',
    matchPattern: '^gpt-4o$',
    tokenizer: 'o200k_base',
    priceVersions: [{ effectiveFrom: AT, prices: { input: '0.0000025', output: '0.00001' } }],
    createdAt: AT,
    updatedAt: AT,
  }),
]);

function span(spanId: string, s: Partial<SpanRecord> = {}): SpanRecord {
  return {
    traceId: 'trace_1',
    spanId,
    parentSpanId: null,
    name: 'chat',
    startTimeUnixNano: '1751371200000000000',
    endTimeUnixNano: '1751371201000000000',
    status: { code: 'ok' },
    attributes: { [GenAiAttr.operationName]: 'chat', [GenAiAttr.requestModel]: 'gpt-4o', [GenAiAttr.inputTokens]: 1234, [GenAiAttr.outputTokens]: 567 },
    organisationId: 'org_a',
    projectId: 'proj_1',
    keyId: 'key_1',
    source: 'gateway',
    ...s,
  };
}

let n = 0;
const ids = () => `usage_${++n}`;

describe('usageRecordsForBatch', () => {
  it('makes one priced record per LLM-call span, carrying the span’s tenant, key and usage', () => {
    const { records, malformed } = usageRecordsForBatch({ batchId: 'b', spans: [span('s1')] }, catalogue, ids);
    expect(malformed).toEqual([]);
    expect(records).toEqual([
      expect.objectContaining({
        organisationId: 'org_a',
        projectId: 'proj_1',
        keyId: 'key_1',
        traceId: 'trace_1',
        spanId: 's1',
        source: 'gateway',
        model: 'gpt-4o',
        startedAt: new Date('2025-07-01T12:00:00.000Z'),
        usage: { input: 1234n, output: 567n, cacheRead: 0n, cacheWrite: 0n, reasoning: 0n },
        definitionId: 'def_1',
        priceEffectiveFrom: new Date(AT),
        cost: '0.008755',
        costBreakdown: { input: '0.003085', output: '0.00567' },
        priced: true,
        unpricedReason: null,
        usageStatus: 'reported',
        errorType: null,
      }),
    ]);
  });

  it('records a gateway call without usage as usage-missing: no tokens, no cost, the error type kept', () => {
    const failed = span('s1', {
      status: { code: 'error', message: 'rate limited' },
      attributes: { [GenAiAttr.operationName]: 'chat', [GenAiAttr.requestModel]: 'gpt-4o', [GatewayAttr.model]: 'my-gpt', 'error.type': 'rate_limited' },
    });
    const { records, malformed } = usageRecordsForBatch({ batchId: 'b', spans: [failed, failed] }, catalogue, ids);
    expect(malformed).toEqual([]);
    expect(records).toEqual([
      expect.objectContaining({
        spanId: 's1',
        model: 'gpt-4o',
        usage: { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n, reasoning: 0n },
        usageStatus: 'missing',
        errorType: 'rate_limited',
        priced: false,
        cost: null,
        costBreakdown: null,
        unpricedReason: 'usage_missing',
        definitionId: null,
      }),
    ]);
  });

  it('leaves out a span of another producer that has no usage', () => {
    const otlp = span('s1', { source: 'otlp', attributes: { [GenAiAttr.operationName]: 'chat', [GenAiAttr.requestModel]: 'gpt-4o', [GatewayAttr.model]: 'my-gpt' } });
    expect(usageRecordsForBatch({ batchId: 'b', spans: [otlp] }, catalogue, ids).records).toEqual([]);
  });

  it('reports a span whose error type Postgres cannot store', () => {
    const bad = span('s1', { attributes: { ...span('s1').attributes, 'error.type': 'x\u0000' } });
    expect(usageRecordsForBatch({ batchId: 'b', spans: [bad] }, catalogue, ids).malformed).toEqual([expect.stringMatching(/s1: its error type holds a NUL/)]);
  });

  it('records an unpriced span with its reason and no cost', () => {
    const { records } = usageRecordsForBatch({ batchId: 'b', spans: [span('s1', { organisationId: 'org_b' })] }, catalogue, ids);
    expect(records[0]).toMatchObject({ priced: false, cost: null, costBreakdown: null, unpricedReason: 'no_matching_definition', definitionId: null });
  });

  it('counts a span repeated within one batch once', () => {
    const { records } = usageRecordsForBatch({ batchId: 'b', spans: [span('s1'), span('s1'), span('s2')] }, catalogue, ids);
    expect(records.map((r) => r.spanId)).toEqual(['s1', 's2']);
  });

  it('leaves out spans that are not LLM calls', () => {
    const agent = span('s2', { attributes: { [GenAiAttr.operationName]: 'invoke_agent', [GenAiAttr.inputTokens]: 5 } });
    expect(usageRecordsForBatch({ batchId: 'b', spans: [agent] }, catalogue, ids).records).toEqual([]);
  });

  it('reports unreadable spans and still records the readable ones', () => {
    const spans = [span('s1', { organisationId: '' }), span('s2', { startTimeUnixNano: 'yesterday' }), { nonsense: true } as unknown as SpanRecord, span('s3')];
    const { records, malformed } = usageRecordsForBatch({ batchId: 'b', spans }, catalogue, ids);
    expect(records.map((r) => r.spanId)).toEqual(['s3']);
    expect(malformed).toHaveLength(3);
    expect(malformed[0]).toMatch(/no organisation/);
    expect(malformed[1]).toMatch(/startTimeUnixNano/);
  });

  it('reports a span whose model or ids hold text Postgres cannot store, and records the rest', () => {
    const nul = span('s1', { attributes: { ...span('s1').attributes, [GenAiAttr.requestModel]: 'gpt-4o\u0000' } });
    const surrogate = span('s2', { keyId: 'key_\ud800' });
    const { records, malformed } = usageRecordsForBatch({ batchId: 'b', spans: [nul, surrogate, span('s3')] }, catalogue, ids);
    expect(records.map((r) => r.spanId)).toEqual(['s3']);
    expect(malformed).toEqual([expect.stringMatching(/s1: its model holds a NUL/), expect.stringMatching(/s2: its key holds/)]);
  });

  it('refuses a message that is not a span batch, so the stream retries and dead-letters it', () => {
    expect(() => usageRecordsForBatch({ batchId: 'b' } as unknown as SpanBatch, catalogue, ids)).toThrow(/not a SpanBatch/);
  });
});
