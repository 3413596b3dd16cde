import { JsonBytes, type DurablePayload, type DurableStreams } from '#libs/bus';
import type { DurableSubject, SpanBatch, SpanRecord } from '#libs/contracts';
import { SpanBatchWriter, SpanPublisher } from './span-publisher.js';

const decode = (payload: unknown): SpanBatch => {
  expect(payload).toBeInstanceOf(JsonBytes);
  return JSON.parse(Buffer.from((payload as JsonBytes<SpanBatch>).bytes).toString('utf8')) as SpanBatch;
};

/** Records every publish; the first `failures` of them fail. */
class FakeDurable implements Pick<DurableStreams, 'publish'> {
  calls: { subject: string; payload: unknown; msgId: string }[] = [];
  constructor(private failures = 0) {}
  async publish<S extends DurableSubject>(subject: S, payload: DurablePayload<S>, msgId: string): Promise<void> {
    this.calls.push({ subject, payload, msgId });
    if (this.failures-- > 0) throw new Error('stream unavailable');
  }
}

const record = (model: string): SpanRecord => ({
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  parentSpanId: null,
  name: `chat ${model}`,
  startTimeUnixNano: '1796522556123000000',
  endTimeUnixNano: '1796522556124500000',
  status: { code: 'unset' },
  attributes: { 'gen_ai.request.model': model },
  organisationId: 'org_a',
  projectId: null,
  keyId: 'key_1',
  source: 'gateway',
});

function setUp(durable: FakeDurable, maxBatchSize = 512) {
  const publisher = new SpanPublisher(durable as unknown as DurableStreams, { flushIntervalMs: 10, maxBatchSize });
  const span = (model: string) => publisher.add(record(model));
  return { publisher, span };
}

describe('SpanBatchWriter', () => {
  const batchOf = (spans: unknown[], initialBytes?: number) => {
    const writer = new SpanBatchWriter(initialBytes);
    for (const s of spans) writer.add(JSON.stringify(s));
    return { writer, batch: decode(writer.seal()) };
  };

  it('is the JSON of a SpanBatch holding the spans as given, non-ASCII text included', () => {
    const spans = [{ name: 'modèle 模型 😀', n: 1 }, { name: 'quote " and \\ backslash', n: 2 }];
    const { writer, batch } = batchOf(spans);
    expect(batch).toEqual({ batchId: writer.batchId, spans });
    expect(writer.count).toBe(2);
    expect(decode(new SpanBatchWriter().seal()).spans).toEqual([]);
  });

  it('grows past its first buffer without losing or changing a span', () => {
    const spans = Array.from({ length: 300 }, (_, i) => ({ i, text: `span ${i} ${'é模'.repeat(i % 7)}` }));
    expect(batchOf(spans, 64).batch.spans).toEqual(spans);
  });

  it('gives each batch its own id', () => {
    expect(new SpanBatchWriter().batchId).not.toBe(new SpanBatchWriter().batchId);
  });
});

describe('SpanPublisher', () => {
  it('publishes the span records it is given, in order, as one batch', async () => {
    const durable = new FakeDurable();
    const { publisher, span } = setUp(durable);
    span('gpt-4o');
    span('gpt-4o-mini');
    await publisher.forceFlush();
    expect(durable.calls).toHaveLength(1);
    const [call] = durable.calls;
    expect(call!.subject).toBe('telemetry.v1.spans');
    const batch = decode(call!.payload);
    expect(batch.batchId).toBe(call!.msgId);
    expect(batch.spans).toEqual([record('gpt-4o'), record('gpt-4o-mini')]);
    expect(publisher.counters).toEqual({ spansQueued: 2, spansPublished: 2, publishFailures: 0, pending: 0 });
  });

  it('retries a failed publish with the same id and the same bytes, so the stream keeps one copy', async () => {
    const durable = new FakeDurable(1);
    const { publisher, span } = setUp(durable);
    span('gpt-4o');
    await publisher.forceFlush();
    expect(durable.calls).toHaveLength(2);
    expect(durable.calls[1]!.msgId).toBe(durable.calls[0]!.msgId);
    expect(durable.calls[1]!.payload).toBe(durable.calls[0]!.payload);
    expect(publisher.counters).toMatchObject({ spansPublished: 1, publishFailures: 1, pending: 0 });
  }, 10_000);

  it('splits a long queue into batches of at most maxBatchSize, each under its own id', async () => {
    const durable = new FakeDurable();
    const { publisher, span } = setUp(durable, 2);
    for (let i = 0; i < 5; i++) span(`m${i}`);
    await publisher.forceFlush();
    const batches = durable.calls.map((c) => decode(c.payload));
    expect(batches.map((b) => b.spans.map((s) => s.attributes['gen_ai.request.model']))).toEqual([['m0', 'm1'], ['m2', 'm3'], ['m4']]);
    expect(new Set(durable.calls.map((c) => c.msgId)).size).toBe(3);
  });
});
