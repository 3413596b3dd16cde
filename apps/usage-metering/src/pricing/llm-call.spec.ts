import { GatewayAttr, GenAiAttr, type SpanAttributeValue, type SpanRecord } from '#libs/contracts';
import { MalformedSpanError, OTHER_ERROR_TYPE, readLlmCall } from './llm-call.js';

function span(attributes: Record<string, SpanAttributeValue>, s: Partial<SpanRecord> = {}): SpanRecord {
  return {
    traceId: 'trace_1',
    spanId: 'span_1',
    parentSpanId: null,
    name: 'chat gpt-4o',
    startTimeUnixNano: '1751371200123456789', // 2025-07-01T12:00:00.123456789Z
    endTimeUnixNano: '1751371201000000000',
    status: { code: 'ok' },
    attributes,
    organisationId: 'org_a',
    projectId: null,
    keyId: null,
    source: 'gateway',
    ...s,
  };
}

const CHAT = { [GenAiAttr.operationName]: 'chat', [GenAiAttr.requestModel]: 'gpt-4o', [GenAiAttr.inputTokens]: 1234, [GenAiAttr.outputTokens]: 567 };

describe('readLlmCall', () => {
  it.each(['chat', 'text_completion', 'embeddings', 'generate_content'])('reads a %s span as an LLM call', (operation) => {
    expect(readLlmCall(span({ ...CHAT, [GenAiAttr.operationName]: operation }))).toMatchObject({ model: 'gpt-4o' });
  });

  it.each(['invoke_agent', 'create_agent', 'execute_tool', 'workflow', ''])('does not price a %j span, which only aggregates its children', (operation) => {
    expect(readLlmCall(span({ ...CHAT, [GenAiAttr.operationName]: operation }))).toBeNull();
  });

  it('does not price a span without an operation name', () => {
    const { [GenAiAttr.operationName]: _op, ...rest } = CHAT;
    expect(readLlmCall(span(rest))).toBeNull();
  });

  it('does not record an OTLP span of an LLM call that carries no gen_ai.usage attributes', () => {
    expect(readLlmCall(span({ [GenAiAttr.operationName]: 'chat', [GenAiAttr.requestModel]: 'gpt-4o' }, { source: 'otlp' }))).toBeNull();
  });

  it('reads a span with usage as a call whose usage was reported, with no error', () => {
    expect(readLlmCall(span(CHAT))).toMatchObject({ usageStatus: 'reported', errorType: null });
    expect(readLlmCall(span(CHAT, { source: 'otlp' }))).toMatchObject({ usageStatus: 'reported', errorType: null });
  });
});

describe('readLlmCall of a gateway call (issue 12: no call goes unrecorded)', () => {
  const CALL = { [GenAiAttr.operationName]: 'chat', [GenAiAttr.requestModel]: 'gpt-4o', [GatewayAttr.model]: 'my-gpt', [GatewayAttr.connectionId]: 'conn_1' };
  const USAGE = { [GenAiAttr.inputTokens]: 1234, [GenAiAttr.outputTokens]: 567 };
  const ZERO = { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n, reasoning: 0n };

  it('reads a gateway call without any usage attribute as a call with missing usage', () => {
    expect(readLlmCall(span({ ...CALL, [GatewayAttr.usageStatus]: 'missing' }))).toEqual({
      model: 'gpt-4o',
      startedAt: new Date('2025-07-01T12:00:00.123Z'),
      usage: ZERO,
      invalidAttributes: [],
      usageStatus: 'missing',
      errorType: null,
      estimateFrom: null,
    });
  });

  it('reads a gateway call without usage as missing even when it sets no usage status (today’s gateway)', () => {
    expect(readLlmCall(span(CALL))?.usageStatus).toBe('missing');
  });

  it('reads a gateway call that claims its usage was reported, but carries none, as missing', () => {
    expect(readLlmCall(span({ ...CALL, [GatewayAttr.usageStatus]: 'reported' }))?.usageStatus).toBe('missing');
    expect(readLlmCall(span({ ...CALL, [GatewayAttr.usageStatus]: 'partial' }))?.usageStatus).toBe('missing');
  });

  it('keeps the error type of a failed gateway call without usage', () => {
    const failed = span({ ...CALL, 'error.type': 'rate_limited' }, { status: { code: 'error', message: 'slow down' } });
    expect(readLlmCall(failed)).toMatchObject({ usageStatus: 'missing', errorType: 'rate_limited', usage: ZERO });
  });

  it('gives a failed span without an error type OpenTelemetry’s fallback type', () => {
    expect(readLlmCall(span(CALL, { status: { code: 'error', message: 'boom' } }))?.errorType).toBe(OTHER_ERROR_TYPE);
  });

  it('reads a stream cut short as partial, with the usage seen so far', () => {
    const cut = span({ ...CALL, ...USAGE, [GatewayAttr.usageStatus]: 'partial', 'error.type': 'ClientGone' }, { status: { code: 'error', message: 'gone' } });
    expect(readLlmCall(cut)).toMatchObject({ usageStatus: 'partial', errorType: 'ClientGone', usage: { ...ZERO, input: 1234n, output: 567n } });
  });

  it('reads a gateway call with usage as reported, whatever else its status claims', () => {
    expect(readLlmCall(span({ ...CALL, ...USAGE, [GatewayAttr.usageStatus]: 'reported' }))?.usageStatus).toBe('reported');
    expect(readLlmCall(span({ ...CALL, ...USAGE }))?.usageStatus).toBe('reported');
    expect(readLlmCall(span({ ...CALL, ...USAGE, [GatewayAttr.usageStatus]: 'missing' }))?.usageStatus).toBe('reported');
    expect(readLlmCall(span({ ...CALL, ...USAGE, [GatewayAttr.usageStatus]: 'estimated' }))?.usageStatus).toBe('reported');
  });

  it('does not let an OTLP span pass as a gateway call: without usage it is not recorded, with usage never partial', () => {
    expect(readLlmCall(span({ ...CALL, [GatewayAttr.usageStatus]: 'missing' }, { source: 'otlp' }))).toBeNull();
    expect(readLlmCall(span({ ...CALL, ...USAGE, [GatewayAttr.usageStatus]: 'partial' }, { source: 'otlp' }))?.usageStatus).toBe('reported');
  });

  it('does not record a gateway span without usage that names no gateway model, or is not a model call', () => {
    const { [GatewayAttr.model]: _model, ...unnamed } = CALL;
    expect(readLlmCall(span(unnamed))).toBeNull();
    expect(readLlmCall(span({ ...CALL, [GatewayAttr.model]: '' }))).toBeNull();
    expect(readLlmCall(span({ ...CALL, [GenAiAttr.operationName]: 'invoke_agent' }))).toBeNull();
  });

  it.each(['chat', 'text_completion', 'embeddings', 'generate_content'])('records a %s gateway call without usage', (operation) => {
    expect(readLlmCall(span({ ...CALL, [GenAiAttr.operationName]: operation }))?.usageStatus).toBe('missing');
  });

  it('still refuses a gateway call without usage whose start time is not epoch nanoseconds', () => {
    expect(() => readLlmCall(span(CALL, { startTimeUnixNano: 'now' }))).toThrow(MalformedSpanError);
  });

  it('reads every usage attribute as an exact integer', () => {
    const call = readLlmCall(
      span({
        ...CHAT,
        [GenAiAttr.inputTokens]: 10_000,
        [GenAiAttr.cacheReadTokens]: 6000,
        [GenAiAttr.cacheCreationTokens]: 1000,
        [GenAiAttr.outputTokens]: 2000,
        [GenAiAttr.reasoningTokens]: 1500,
      }),
    );
    expect(call?.usage).toEqual({ input: 10_000n, output: 2000n, cacheRead: 6000n, cacheWrite: 1000n, reasoning: 1500n });
    expect(call?.invalidAttributes).toEqual([]);
  });

  it('counts a usage attribute that is absent as zero tokens', () => {
    const call = readLlmCall(span({ [GenAiAttr.operationName]: 'embeddings', [GenAiAttr.requestModel]: 'text-embedding-3-small', [GenAiAttr.inputTokens]: 8 }));
    expect(call?.usage).toEqual({ input: 8n, output: 0n, cacheRead: 0n, cacheWrite: 0n, reasoning: 0n });
  });

  it('lists usage attributes that are not non-negative integers instead of guessing a count', () => {
    const call = readLlmCall(span({ ...CHAT, [GenAiAttr.inputTokens]: -1, [GenAiAttr.outputTokens]: 1.5, [GenAiAttr.reasoningTokens]: 'many' }));
    expect(call?.invalidAttributes.sort()).toEqual([GenAiAttr.inputTokens, GenAiAttr.outputTokens, GenAiAttr.reasoningTokens].sort());
  });

  it('accepts token counts written as integer strings', () => {
    expect(readLlmCall(span({ ...CHAT, [GenAiAttr.inputTokens]: '9007199254740993' }))?.usage.input).toBe(9_007_199_254_740_993n);
  });

  it('prefers the response model to the request model', () => {
    expect(readLlmCall(span({ ...CHAT, [GenAiAttr.responseModel]: 'gpt-4o-2024-08-06' }))?.model).toBe('gpt-4o-2024-08-06');
    expect(readLlmCall(span({ ...CHAT, [GenAiAttr.responseModel]: '' }))?.model).toBe('gpt-4o');
  });

  it('reads the start time from epoch nanoseconds, rounding down to the millisecond', () => {
    expect(readLlmCall(span(CHAT))?.startedAt.toISOString()).toBe('2025-07-01T12:00:00.123Z');
  });

  it('refuses a span whose start time is not epoch nanoseconds', () => {
    expect(() => readLlmCall(span(CHAT, { startTimeUnixNano: '2025-07-01' }))).toThrow(MalformedSpanError);
  });
});
