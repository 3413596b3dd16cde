import { GenAiAttr, type SpanAttributeValue, type SpanRecord } from '#libs/contracts';
import { MalformedSpanError, readLlmCall } from './llm-call.js';

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

  it('does not price an LLM-call span that carries no gen_ai.usage attributes', () => {
    expect(readLlmCall(span({ [GenAiAttr.operationName]: 'chat', [GenAiAttr.requestModel]: 'gpt-4o' }))).toBeNull();
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
