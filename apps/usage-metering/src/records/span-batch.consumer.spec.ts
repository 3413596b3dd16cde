import type { SpanBatch, SpanRecord } from '#libs/contracts';
import { definitionView } from '../../../../test/support/model-definition-view.js';
import type { DefinitionsReadModel } from '../definitions/definitions-read-model.js';
import type { KeySpendReporter } from '../key-spend/key-spend-reporter.js';
import type { LastUsedReporter } from '../last-used/last-used-reporter.js';
import { PriceCatalogue } from '../pricing/price-catalogue.js';
import type { NewUsageRecord } from './new-usage-record.js';
import { SpanBatchConsumer, WRITES_IN_FLIGHT } from './span-batch.consumer.js';
import type { UnpricedRecordsRepricer } from './unpriced-records.repricer.js';
import type { UsageRecordsRepository } from './usage-records.repository.js';

const JAN = '2026-01-01T00:00:00.000Z';
const catalogue = PriceCatalogue.build([
  definitionView({ id: 'def_a', organisationId: 'org_a', projectId: null, name: 'a', matchPattern: '^model-a$', tokenizer: 'none', priceVersions: [{ effectiveFrom: JAN, prices: { input: '0.000002', output: '0.00001' } }], createdAt: JAN, updatedAt: JAN }),
]);
const definitions = { catalogue, generation: 1 } as unknown as DefinitionsReadModel;

function batch(name: string, spans: number): SpanBatch {
  return {
    batchId: name,
    spans: Array.from(
      { length: spans },
      (_, i): SpanRecord => ({
        traceId: `trace-${name}`,
        spanId: `span-${i}`,
        parentSpanId: null,
        name: 'chat model-a',
        startTimeUnixNano: '1770000000000000000',
        endTimeUnixNano: '1770000001000000000',
        status: { code: 'ok' },
        attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'model-a', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 2 },
        organisationId: 'org_a',
        projectId: null,
        keyId: 'key_a',
        source: 'gateway',
      }),
    ),
  };
}

/** A records repository whose writes finish when the test says, and which refuses records of a poisoned trace. */
function gatedRecords(poisoned = new Set<string>()) {
  const writes: { traces: string[]; finish: () => void }[] = [];
  const records = {
    insertBatch: (rows: readonly NewUsageRecord[]) =>
      new Promise<readonly NewUsageRecord[]>((resolve, reject) => {
        const traces = [...new Set(rows.map((r) => r.traceId))];
        writes.push({ traces, finish: () => (traces.some((t) => poisoned.has(t)) ? reject(new Error('refused')) : resolve(rows)) });
      }),
  } as unknown as UsageRecordsRepository;
  return { records, writes };
}

function consumer(records: UsageRecordsRepository, spent: NewUsageRecord[] = []): SpanBatchConsumer {
  const lastUsed = { note: () => undefined } as unknown as LastUsedReporter;
  const keySpend = { note: (r: readonly NewUsageRecord[]) => spent.push(...r) } as unknown as KeySpendReporter;
  const repricer = { schedule: () => undefined } as unknown as UnpricedRecordsRepricer;
  return new SpanBatchConsumer(null, definitions, records, repricer, lastUsed, keySpend);
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SpanBatchConsumer', () => {
  it('stores the batches that arrive while the writes are busy together, and acks each only once its write committed', async () => {
    expect(WRITES_IN_FLIGHT).toBe(2);
    const { records, writes } = gatedRecords();
    const spent: NewUsageRecord[] = [];
    const c = consumer(records, spent);
    const settled: string[] = [];
    const handled = ['b1', 'b2', 'b3', 'b4'].map((name) => c.handle(batch(name, 3), { msgId: name, deliveryCount: 1 }).then(() => settled.push(name)));
    await tick();
    // Two writes in flight (b1, b2); b3 and b4 wait for one of them.
    expect(writes.map((w) => w.traces)).toEqual([['trace-b1'], ['trace-b2']]);
    writes[1]!.finish();
    await tick();
    expect(settled).toEqual(['b2']);
    expect(writes.map((w) => w.traces)).toEqual([['trace-b1'], ['trace-b2'], ['trace-b3', 'trace-b4']]);
    writes[2]!.finish();
    await tick();
    expect(settled).toEqual(['b2', 'b3', 'b4']);
    writes[0]!.finish();
    await Promise.all(handled);
    expect(settled).toEqual(['b2', 'b3', 'b4', 'b1']);
    // Each stored record is spent once.
    expect(spent.map((r) => r.traceId).sort()).toEqual(['b1', 'b2', 'b3', 'b4'].flatMap((n) => Array(3).fill(`trace-${n}`)).sort());
  });

  it('writes each batch of a refused write alone, so only the batch that is refused by itself fails its delivery', async () => {
    const { records, writes } = gatedRecords(new Set(['trace-bad']));
    const c = consumer(records);
    const outcome = (name: string) =>
      c.handle(batch(name, 2), { msgId: name, deliveryCount: 1 }).then(
        () => 'stored',
        (err: unknown) => `failed: ${(err as Error).message}`,
      );
    const results = ['b1', 'b2', 'bad', 'b3'].map(outcome);
    await tick();
    writes[0]!.finish();
    writes[1]!.finish();
    await tick();
    // bad and b3 went together; the write is refused, then each goes alone.
    expect(writes[2]!.traces).toEqual(['trace-bad', 'trace-b3']);
    writes[2]!.finish();
    await tick();
    expect(writes[3]!.traces).toEqual(['trace-bad']);
    writes[3]!.finish();
    await tick();
    expect(writes[4]!.traces).toEqual(['trace-b3']);
    writes[4]!.finish();
    expect(await Promise.all(results)).toEqual(['stored', 'stored', 'failed: refused', 'stored']);
  });
});
