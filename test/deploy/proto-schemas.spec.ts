import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import protobuf from 'protobufjs';
import protojson from 'protobufjs/ext/protojson.js';
import type { SpanBatch, SpanRecord } from '#libs/contracts';

/**
 * The schemas in proto/ (shipped in the deploy image): span_batch.proto says the same as the JSON
 * the bus carries (libs/contracts/src/telemetry.ts), and the vendored OTLP protos are the files
 * proto/README.md names, unmodified and loadable.
 */

const PROTO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');

function load(file: string): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : path.join(PROTO, target));
  root.loadSync(file);
  root.resolveAll();
  return root;
}

/** Every field set, including the optional ones: a field added to SpanRecord fails to compile here. */
const fullRecord = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  parentSpanId: '00f067aa0ba902b7',
  name: 'chat gpt-4o',
  startTimeUnixNano: '1732350000123456789',
  endTimeUnixNano: '1732350001987654321',
  status: { code: 'error', message: 'upstream answered 503' },
  attributes: {
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.usage.input_tokens': 1200,
    'gen_ai.request.stream': true,
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.request.temperature': 0.25,
  },
  organisationId: 'default',
  projectId: 'prj_1',
  keyId: 'key_1',
  source: 'otlp',
} satisfies Required<SpanRecord>;

describe('proto/gateway/telemetry/v1/span_batch.proto', () => {
  const root = load('gateway/telemetry/v1/span_batch.proto');
  const SpanBatchType = root.lookupType('gateway.telemetry.v1.SpanBatch');
  const SpanRecordType = root.lookupType('gateway.telemetry.v1.SpanRecord');

  const roundTrip = (json: unknown): unknown => {
    const bytes = SpanBatchType.encode(protojson.fromJson(SpanBatchType, json)).finish();
    return protojson.toJson(SpanBatchType, SpanBatchType.decode(bytes));
  };

  it('has a field for every SpanRecord field, under the same JSON name', () => {
    expect(Object.values(SpanRecordType.fields).map((f) => f.name).sort()).toEqual(Object.keys(fullRecord).sort());
    expect(Object.values(SpanBatchType.fields).map((f) => f.name).sort()).toEqual(['batchId', 'spans']);
  });

  it("reads the bus JSON and writes it back through binary protobuf as it was (proto3's JSON mapping)", () => {
    const batch: SpanBatch = { batchId: 'batch_1', spans: [fullRecord] };
    expect(roundTrip(JSON.parse(JSON.stringify(batch)))).toEqual(batch);
  });

  it('reads every status code and source the contract allows', () => {
    const codes: SpanRecord['status']['code'][] = ['unset', 'ok', 'error'];
    const sources: SpanRecord['source'][] = ['gateway', 'otlp'];
    for (const code of codes) {
      for (const source of sources) {
        const batch = { batchId: 'b', spans: [{ ...fullRecord, status: { code }, source }] };
        expect(roundTrip(batch)).toEqual(batch);
      }
    }
  });

  it('omits what the JSON sends as null, which readers treat as absent', () => {
    const withNulls: SpanBatch = { batchId: 'b', spans: [{ ...fullRecord, parentSpanId: null, projectId: null, keyId: null }] };
    const { parentSpanId: _p, projectId: _pr, keyId: _k, ...rest } = fullRecord;
    expect(roundTrip(JSON.parse(JSON.stringify(withNulls)))).toEqual({ batchId: 'b', spans: [rest] });
  });

  it('refuses a status code the contract does not have', () => {
    expect(() => protojson.fromJson(SpanBatchType, { batchId: 'b', spans: [{ ...fullRecord, status: { code: 'failed' } }] })).toThrow();
  });
});

describe('proto/opentelemetry (vendored OTLP trace protos)', () => {
  const readme = readFileSync(path.join(PROTO, 'README.md'), 'utf8');
  const listed = [...readme.matchAll(/^\| `(opentelemetry\/[^`]+\.proto)` \| `([0-9a-f]{64})` \|$/gm)].map((m) => ({ file: m[1]!, sha256: m[2]! }));

  it('are the files proto/README.md lists, unmodified', () => {
    expect(listed.map((l) => l.file).sort()).toEqual([
      'opentelemetry/proto/collector/trace/v1/trace_service.proto',
      'opentelemetry/proto/common/v1/common.proto',
      'opentelemetry/proto/resource/v1/resource.proto',
      'opentelemetry/proto/trace/v1/trace.proto',
    ]);
    for (const { file, sha256 } of listed) {
      expect({ file, sha256: createHash('sha256').update(readFileSync(path.join(PROTO, file))).digest('hex') }).toEqual({ file, sha256 });
    }
  });

  it('decode an OTLP export request down to span attributes', () => {
    const root = load('opentelemetry/proto/collector/trace/v1/trace_service.proto');
    const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
    const request = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
          scopeSpans: [
            {
              scope: { name: 'my-llm-lib', version: '1.0.0' },
              spans: [
                {
                  traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'),
                  spanId: Buffer.from('b7ad6b7169203331', 'hex'),
                  name: 'chat gpt-4o',
                  kind: 3,
                  startTimeUnixNano: '1732350000123456789',
                  endTimeUnixNano: '1732350001123456789',
                  attributes: [{ key: 'gen_ai.usage.input_tokens', value: { intValue: '1200' } }],
                  status: { code: 1 },
                },
              ],
            },
          ],
        },
      ],
    };
    const decoded = Request.toObject(Request.decode(Request.encode(Request.fromObject(request)).finish()), { longs: String, bytes: String }) as typeof request;
    const span = decoded.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(span.name).toBe('chat gpt-4o');
    expect(span.startTimeUnixNano).toBe('1732350000123456789');
    expect(span.attributes).toEqual([{ key: 'gen_ai.usage.input_tokens', value: { intValue: '1200' } }]);
    expect(Buffer.from(span.traceId as unknown as string, 'base64').toString('hex')).toBe('0af7651916cd43dd8448eb211c80319c');
  });
});
