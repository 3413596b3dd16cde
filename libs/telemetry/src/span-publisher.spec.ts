import { JsonBytes, type DurablePayload, type DurableStreams } from '#libs/bus';
import type { DurableSubject, SpanBatch, SpanRecord } from '#libs/contracts';
import type { JsonTextOut, SpanJson } from './call-span.js';
import { CallSpan } from './call-span.js';
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

  it('takes spans that write their own JSON, piece by piece, between spans given as text; a span that throws while writing leaves the batch as it was', () => {
    const writer = new SpanBatchWriter(8);
    const pieces: SpanJson = {
      writeJson(out: JsonTextOut) {
        out.bytes(Buffer.from('{"ké":'));
        out.string('modèle "x" 😀');
        out.json(',"n":[');
        for (const n of [0, -0, -12, 1.5, 2 ** 60, Number.NaN, 1e21]) {
          out.number(n);
          out.json(',');
        }
        out.digits(42, 9);
        out.json('],"plain":');
        out.string('gpt-4o-mini');
        out.json('}');
      },
    };
    const throwing: SpanJson = {
      writeJson(out: JsonTextOut) {
        out.json('{"half":');
        throw new Error('cannot serialise');
      },
    };
    writer.add(JSON.stringify({ first: 1 }));
    expect(() => writer.addSpan(throwing)).toThrow('cannot serialise');
    writer.addSpan(pieces);
    expect(() => writer.addSpan(throwing)).toThrow('cannot serialise');
    writer.add(JSON.stringify({ last: 2 }));
    expect(writer.count).toBe(3);
    const text = Buffer.from(writer.seal().bytes).toString('utf8');
    expect(text).toBe(
      `{"batchId":"${writer.batchId}","spans":[${JSON.stringify({ first: 1 })},` +
        `${JSON.stringify({ 'ké': 'modèle "x" 😀', n: [0, -0, -12, 1.5, 2 ** 60, Number.NaN, 1e21, 0], plain: 'gpt-4o-mini' }).replace(',0]', ',000000042]')},` +
        `${JSON.stringify({ last: 2 })}]}`,
    );
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

  it('publishes call spans it has write themselves exactly as the records they stand for, once each, across batches and a failed publish', async () => {
    const durable = new FakeDurable(1);
    const publisher = new SpanPublisher(durable as unknown as DurableStreams, { flushIntervalMs: 10, maxBatchSize: 2 });
    const tenant = { organisationId: 'org_a', projectId: null, keyId: 'key_1' };
    const expected: SpanRecord[] = [];
    for (let i = 0; i < 5; i++) {
      // The same calls on a span into a sink that takes records, and on one into the publisher.
      for (const sink of [{ add: (r: SpanRecord) => expected.push(JSON.parse(JSON.stringify(r)) as SpanRecord) }, publisher]) {
        let ms = 1_796_522_556_123 + i * 1.125;
        const clock = { nowMs: () => (ms += 0.25) };
        const ids = { traceId: () => '4bf92f3577b34da6a3ce929d0e0e4736', spanId: () => `00f067aa0ba902b${i}` };
        const span = new CallSpan(sink, clock, ids, { name: `chat m${i}`, tenant, attributes: { 'gen_ai.request.model': `m${i}`, 'gen_ai.request.stream': i % 2 === 0 } });
        span.setAttribute('gen_ai.usage.input_tokens', 1000 + i);
        span.setAttribute('gen_ai.response.finish_reasons', ['stop']);
        span.end();
        span.end();
      }
    }
    await publisher.forceFlush();
    const published = [...new Map(durable.calls.map((c) => [c.msgId, decode(c.payload)])).values()].flatMap((b) => b.spans);
    expect(published).toEqual(expected);
    expect(publisher.counters).toEqual({ spansQueued: 5, spansPublished: 5, publishFailures: 1, pending: 0 });
  }, 10_000);
});
