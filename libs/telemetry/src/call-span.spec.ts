import type { SpanRecord } from '#libs/contracts';
import { CallSpan, RandomSpanIds, unixNanos, type SpanClock, type SpanIdSource, type SpanJson } from './call-span.js';
import { SpanBatchWriter } from './span-publisher.js';

class Recorder {
  records: SpanRecord[] = [];
  add(record: SpanRecord): void {
    this.records.push(JSON.parse(JSON.stringify(record)) as SpanRecord);
  }
}

class StepClock implements SpanClock {
  constructor(private ms: number) {}
  nowMs(): number {
    const now = this.ms;
    this.ms += 1.5;
    return now;
  }
}

const fixedIds: SpanIdSource = { traceId: () => 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', spanId: () => 'bbbbbbbbbbbbbbbb' };
const tenant = { organisationId: 'org_a', projectId: 'proj_1', keyId: 'key_1' };

function startSpan(sink: Recorder, traceparent?: string | string[]) {
  return new CallSpan(sink, new StepClock(1_796_522_556_123), fixedIds, {
    name: 'chat gpt-4o',
    tenant,
    attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.request.stream': false },
    traceparent,
  });
}

describe('CallSpan', () => {
  it('records one span with its tenant, times, attributes and a new trace when the caller sent none', () => {
    const sink = new Recorder();
    const span = startSpan(sink);
    span.setAttribute('gen_ai.usage.input_tokens', 10);
    span.setAttribute('gen_ai.response.finish_reasons', ['stop']);
    expect(sink.records).toHaveLength(0);
    span.end();
    expect(sink.records).toEqual([
      {
        traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
        spanId: 'bbbbbbbbbbbbbbbb',
        parentSpanId: null,
        name: 'chat gpt-4o',
        startTimeUnixNano: '1796522556123000000',
        endTimeUnixNano: '1796522556124500000',
        status: { code: 'unset' },
        attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.request.stream': false, 'gen_ai.usage.input_tokens': 10, 'gen_ai.response.finish_reasons': ['stop'] },
        organisationId: 'org_a',
        projectId: 'proj_1',
        keyId: 'key_1',
        source: 'gateway',
      },
    ]);
  });

  it("joins the caller's trace as a child of the caller's span (W3C traceparent)", () => {
    const sink = new Recorder();
    startSpan(sink, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01').end();
    startSpan(sink, ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']).end();
    expect(sink.records.map((r) => [r.traceId, r.parentSpanId, r.spanId])).toEqual([
      ['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 'bbbbbbbbbbbbbbbb'],
      ['0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', 'bbbbbbbbbbbbbbbb'],
    ]);
  });

  it('starts a trace of its own when the traceparent is malformed or all zero', () => {
    const sink = new Recorder();
    for (const bad of ['garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']) {
      startSpan(sink, bad).end();
    }
    expect(sink.records.map((r) => [r.traceId, r.parentSpanId])).toEqual(Array(4).fill(['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', null]));
  });

  it('marks a failed call with status error, the message, and error.type', () => {
    const sink = new Recorder();
    const span = startSpan(sink);
    span.setError('The upstream provider could not be reached.', 'upstream_unreachable');
    span.end();
    expect(sink.records[0]).toMatchObject({ status: { code: 'error', message: 'The upstream provider could not be reached.' }, attributes: { 'error.type': 'upstream_unreachable' } });
  });

  it('is recorded once, and nothing changes it after it ended', () => {
    const sink = new Recorder();
    const span = startSpan(sink);
    span.end();
    span.setAttribute('gen_ai.usage.input_tokens', 99);
    span.setError('late', 'late');
    span.end();
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]!.status).toEqual({ code: 'unset' });
    expect(sink.records[0]!.attributes).not.toHaveProperty('gen_ai.usage.input_tokens');
  });
});

describe('RandomSpanIds', () => {
  it('gives lowercase hex ids of W3C length, all different, across refills of its pool', () => {
    const ids = new RandomSpanIds();
    const traceIds = new Set<string>();
    const spanIds = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      traceIds.add(ids.traceId());
      spanIds.add(ids.spanId());
    }
    expect(traceIds.size).toBe(1000);
    expect(spanIds.size).toBe(1000);
    for (const id of traceIds) expect(id).toMatch(/^[0-9a-f]{32}$/);
    for (const id of spanIds) expect(id).toMatch(/^[0-9a-f]{16}$/);
  });
});

/**
 * A sink that has the span write its own JSON, as SpanPublisher does: into a batch writer whose
 * first buffer is small (the span's pieces make it grow), the span's text read back from the batch.
 */
class JsonRecorder {
  texts: string[] = [];
  add(): void {
    throw new Error('a sink with addSpan has the span write its JSON');
  }
  addSpan(span: SpanJson): void {
    const writer = new SpanBatchWriter(16);
    writer.addSpan(span);
    const batch = Buffer.from(writer.seal().bytes).toString('utf8');
    const head = `{"batchId":"${writer.batchId}","spans":[`;
    expect(batch.startsWith(head) && batch.endsWith(']}')).toBe(true);
    this.texts.push(batch.slice(head.length, -2));
  }
}

describe('CallSpan JSON', () => {
  /** The same calls on a span of each sink; the record and the text must say the same. */
  function both(drive: (span: CallSpan) => void, traceparent?: string): { record: SpanRecord; text: string } {
    const recorder = new Recorder();
    const json = new JsonRecorder();
    for (const sink of [recorder, json]) {
      const span = new CallSpan(sink as Recorder, new StepClock(1_796_522_556_123.25), fixedIds, {
        name: 'chat "quoted" \u2028 model\n',
        tenant: { organisationId: 'org_a', projectId: null, keyId: null },
        attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.request.stream': true, 'gateway.request_id': 'req_1' },
        traceparent,
      });
      drive(span);
      span.end();
    }
    expect(json.texts).toHaveLength(1);
    return { record: recorder.records[0]!, text: json.texts[0]! };
  }

  it('writes each tenant\'s ids as its record has them, a tenant object used again as the first time (its JSON is made once)', () => {
    const shared = { organisationId: 'org "b"', projectId: 'proj_2', keyId: null };
    const other = { organisationId: 'org_c', projectId: null, keyId: 'key_3' };
    for (const t of [shared, other, shared]) {
      const recorder = new Recorder();
      const json = new JsonRecorder();
      for (const sink of [recorder, json]) new CallSpan(sink as Recorder, new StepClock(1_796_522_556_123), fixedIds, { name: 'chat m', tenant: t, attributes: {} }).end();
      expect(json.texts[0]).toBe(JSON.stringify(recorder.records[0]));
      expect(JSON.parse(json.texts[0]!)).toMatchObject({ organisationId: t.organisationId, projectId: t.projectId, keyId: t.keyId });
    }
  });

  it('is the text JSON.stringify makes of the record: escapes, numbers, booleans, arrays, a replaced attribute, an error status', () => {
    const { record, text } = both((span) => {
      span.setAttribute('gen_ai.usage.input_tokens', 10);
      span.setAttribute('gen_ai.usage.output_tokens', 0.5);
      span.setAttribute('gen_ai.response.model', 'gpt-4o-2024 "x" \\ \u0001 é 😀');
      span.setAttribute('gen_ai.response.finish_reasons', ['stop', 'tool "calls"']);
      span.setAttribute('gen_ai.request.stream', false); // replaced in place
      span.setAttribute('gen_ai.usage.input_tokens', 12);
      span.setError('upstream said "no"\n', 'upstream_error');
      span.setAttribute('a.b', Number.NaN);
      span.setAttribute('n.inf', Number.POSITIVE_INFINITY);
      span.setAttribute('n.neg_zero', -0);
      span.setAttribute('n.big', 1e21);
      span.setAttribute('n.small', 1e-7);
      span.setAttribute('n.negative', -42.125);
      span.setAttribute('s.plain', 'chatcmpl-B9MBs8 gpt-4o-mini_2024.07~18!#$%&()*+,-./:;<=>?@[]^`{|}');
      span.setAttribute('s.empty', '');
      span.setAttribute('s.del', 'a\u007fb');
      span.setAttribute('s.lone_surrogate', 'x\ud800y');
      span.setAttribute('s.slash', 'a/b\\c');
      span.setAttribute('n.max_safe', Number.MAX_SAFE_INTEGER);
      span.setAttribute('n.min_safe', -Number.MAX_SAFE_INTEGER);
      span.setAttribute('n.past_safe', 2 ** 60);
      span.setAttribute('n.ten', 10);
      span.setAttribute('n.zero', 0);
      span.setAttribute('a.numbers', [0, -0, 1.5, -7, Number.NaN, 123456789012]);
      span.setAttribute('a.booleans', [true, false]);
      span.setAttribute('a.empty', []);
      span.setAttribute('a.mixed_text', ['', 'é', 'a"b', 'plain']);
      span.setAttribute('k\u00e9y "q"', 'key needs escaping and is not ASCII');
      span.setAttribute('s.long_plain', `${'gpt-4o-mini '.repeat(10)}~!`);
      span.setAttribute('s.long_escaped', `${'text '.repeat(20)}\n"end" é`);
    }, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(text).toBe(JSON.stringify(record));
    expect(JSON.parse(text)).toEqual(record);
    expect(record.attributes['gen_ai.request.stream']).toBe(false);
    expect(record.attributes['gen_ai.usage.input_tokens']).toBe(12);
    expect(Object.keys(record.attributes)).toEqual([
      'gen_ai.request.model',
      'gen_ai.request.stream',
      'gateway.request_id',
      'gen_ai.usage.input_tokens',
      'gen_ai.usage.output_tokens',
      'gen_ai.response.model',
      'gen_ai.response.finish_reasons',
      'error.type',
      'a.b',
      'n.inf',
      'n.neg_zero',
      'n.big',
      'n.small',
      'n.negative',
      's.plain',
      's.empty',
      's.del',
      's.lone_surrogate',
      's.slash',
      'n.max_safe',
      'n.min_safe',
      'n.past_safe',
      'n.ten',
      'n.zero',
      'a.numbers',
      'a.booleans',
      'a.empty',
      'a.mixed_text',
      'k\u00e9y "q"',
      's.long_plain',
      's.long_escaped',
    ]);
    expect(record.status).toEqual({ code: 'error', message: 'upstream said "no"\n' });
  });

  it('an unset status and no attributes set after the start', () => {
    const { record, text } = both(() => {});
    expect(text).toBe(JSON.stringify(record));
    expect(record.status).toEqual({ code: 'unset' });
  });

  it('ignores attributes set after the end', () => {
    const json = new JsonRecorder();
    const span = new CallSpan(json as unknown as Recorder, new StepClock(1), fixedIds, { name: 'n', tenant, attributes: {} });
    span.end();
    span.setAttribute('late', 1);
    span.end();
    expect(json.texts).toHaveLength(1);
    expect((JSON.parse(json.texts[0]!) as SpanRecord).attributes).toEqual({});
  });
});

describe('unixNanos', () => {
  it('is the epoch milliseconds as exact decimal nanoseconds, rounded to the nanosecond', () => {
    expect(unixNanos(1_796_522_556_123)).toBe('1796522556123000000');
    expect(unixNanos(1_796_522_556_123.5)).toBe('1796522556123500000');
    expect(unixNanos(1_796_522_556_123.25)).toBe('1796522556123250000');
    expect(unixNanos(5)).toBe('5000000');
    expect(unixNanos(0.000001)).toBe('1');
    expect(unixNanos(0)).toBe('0');
    expect(unixNanos(999.9999999)).toBe('1000000000'); // rounds up into the next millisecond
  });

  it('agrees with BigInt arithmetic on times with sub-millisecond fractions', () => {
    for (let i = 0; i < 1000; i++) {
      const ms = 1_796_522_556_123 + i * 7.125; // fractions exact in binary
      const expected = BigInt(Math.floor(ms)) * 1_000_000n + BigInt((ms - Math.floor(ms)) * 1e6);
      expect(unixNanos(ms)).toBe(expected.toString());
    }
  });
});
