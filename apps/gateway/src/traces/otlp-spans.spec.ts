import { OtlpProtobuf } from './otlp-protobuf.js';
import { OtlpPayloadError, readOtlpSpans } from './otlp-spans.js';

const OWNER = { organisationId: 'org_a', projectId: 'proj_1', keyId: 'key_1' };

const span = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  traceId: '5B8EFFF798038103D269B633813FC60C',
  spanId: 'eee19b7ec3c1b174',
  parentSpanId: '',
  name: 'chat gpt-4o',
  startTimeUnixNano: '1751371200123456789',
  endTimeUnixNano: 1751371201000000000,
  status: { code: 2, message: 'boom' },
  attributes: [
    { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
    { key: 'gen_ai.usage.input_tokens', value: { intValue: '1200' } },
    { key: 'big', value: { intValue: '9007199254740993' } },
    { key: 'temperature', value: { doubleValue: 0.5 } },
    { key: 'stream', value: { boolValue: false } },
    { key: 'reasons', value: { arrayValue: { values: [{ stringValue: 'stop' }] } } },
    { key: 'mixed', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }] } } },
    { key: 'empty', value: {} },
  ],
  ...overrides,
});
const exportOf = (...spans: unknown[]): unknown => ({ resourceSpans: [{ resource: {}, scopeSpans: [{ scope: { name: 'x' }, spans }] }] });

function errorOf(body: unknown): OtlpPayloadError {
  try {
    readOtlpSpans(body, OWNER);
  } catch (err) {
    if (err instanceof OtlpPayloadError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('readOtlpSpans', () => {
  it('reads OTLP/JSON: hex ids lowercased, int64 as numbers when exact and strings when not, owned by the key’s tenant', () => {
    expect(readOtlpSpans(exportOf(span()), OWNER)).toEqual([
      {
        traceId: '5b8efff798038103d269b633813fc60c',
        spanId: 'eee19b7ec3c1b174',
        parentSpanId: null,
        name: 'chat gpt-4o',
        startTimeUnixNano: '1751371200123456789',
        endTimeUnixNano: '1751371201000000000',
        status: { code: 'error', message: 'boom' },
        attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 1200, big: '9007199254740993', temperature: 0.5, stream: false, reasons: ['stop'], mixed: '["a",1]' },
        organisationId: 'org_a',
        projectId: 'proj_1',
        keyId: 'key_1',
        source: 'otlp',
      },
    ]);
  });

  it('accepts an empty export', () => {
    expect(readOtlpSpans({}, OWNER)).toEqual([]);
  });

  it.each([
    ['a trace id of the wrong length', span({ traceId: 'abc' }), 'resourceSpans[0].scopeSpans[0].spans[0].traceId'],
    ['an all-zero span id', span({ spanId: '0000000000000000' }), 'resourceSpans[0].scopeSpans[0].spans[0].spanId'],
    ['a start time that is not an integer', span({ startTimeUnixNano: '12.5' }), 'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano'],
    ['no start time', span({ startTimeUnixNano: undefined }), 'resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano'],
    ['a status code out of range', span({ status: { code: 7 } }), 'resourceSpans[0].scopeSpans[0].spans[0].status.code'],
    ['an intValue that is text', span({ attributes: [{ key: 'n', value: { intValue: 'ten' } }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue'],
    ['a stringValue that is a number', span({ attributes: [{ key: 's', value: { stringValue: 3 } }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.stringValue'],
    ['an attribute without a key', span({ attributes: [{ value: { stringValue: 'x' } }] }), 'resourceSpans[0].scopeSpans[0].spans[0].attributes[0].key'],
  ])('refuses %s, naming the field', (_name, bad, field) => {
    expect(errorOf(exportOf(bad)).field).toBe(field);
  });

  it('refuses spans that are not an array', () => {
    expect(errorOf({ resourceSpans: [{ scopeSpans: [{ spans: {} }] }] }).field).toBe('resourceSpans[0].scopeSpans[0].spans');
  });
});

describe('OtlpProtobuf', () => {
  const protobuf = new OtlpProtobuf();

  it('decodes what it would encode into the fields readOtlpSpans reads, ids as bytes', async () => {
    const { default: pb } = await import('protobufjs');
    const root = new pb.Root();
    const path = await import('node:path');
    root.resolvePath = (_o, t) => path.resolve('proto', t);
    root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
    const type = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
    const bytes = type
      .encode(
        type.fromObject({
          resourceSpans: [
            {
              scopeSpans: [
                {
                  spans: [
                    {
                      traceId: Buffer.from('5b8efff798038103d269b633813fc60c', 'hex'),
                      spanId: Buffer.from('eee19b7ec3c1b174', 'hex'),
                      name: 'chat',
                      startTimeUnixNano: '1751371200123456789',
                      endTimeUnixNano: '1751371201123456789',
                      attributes: [{ key: 'gen_ai.usage.input_tokens', value: { intValue: 42 } }],
                    },
                  ],
                },
              ],
            },
          ],
        }),
      )
      .finish();
    const [read] = readOtlpSpans(protobuf.decodeRequest(bytes), OWNER);
    expect(read).toMatchObject({ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', parentSpanId: null, startTimeUnixNano: '1751371200123456789', attributes: { 'gen_ai.usage.input_tokens': 42 } });
  });

  it('refuses bytes that are not a protobuf message', () => {
    expect(() => protobuf.decodeRequest(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(OtlpPayloadError);
  });

  it('encodes the empty ExportTraceServiceResponse as zero bytes', () => {
    expect(protobuf.encodeEmptyResponse()).toHaveLength(0);
  });
});
