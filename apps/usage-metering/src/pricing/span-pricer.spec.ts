import { GatewayAttr, GenAiAttr, type SpanAttributeValue, type SpanRecord } from '#libs/contracts';
import { formatDecimal } from '#libs/money';
import { definitionView } from '../../../../test/support/model-definition-view.js';
import { PriceCatalogue } from './price-catalogue.js';
import { priceSpan, type SpanPricing } from './span-pricer.js';

const JAN = '2025-01-01T00:00:00.000Z';

const catalogue = PriceCatalogue.build([
  definitionView({
    id: 'def_4o',
    organisationId: 'org_a',
    projectId: null,
    name: 'gpt-4o',
    matchPattern: '(?i)^gpt-4o(-\\d{4}-\\d{2}-\\d{2})?$',
    tokenizer: 'o200k_base',
    priceVersions: [{ effectiveFrom: JAN, prices: { input: '0.0000025', cache_read: '0.00000125', output: '0.00001', reasoning: '0.000012' } }],
    createdAt: JAN,
    updatedAt: JAN,
  }),
  definitionView({
    id: 'def_in_only',
    organisationId: 'org_a',
    projectId: null,
    name: 'input only',
    matchPattern: '^input-only$',
    tokenizer: 'none',
    priceVersions: [{ effectiveFrom: JAN, prices: { input: '0.000001' } }],
    createdAt: JAN,
    updatedAt: JAN,
  }),
]);

function span(attributes: Record<string, SpanAttributeValue>): SpanRecord {
  return {
    traceId: 't',
    spanId: 's',
    parentSpanId: null,
    name: 'chat',
    startTimeUnixNano: '1751371200000000000', // 2025-07-01
    endTimeUnixNano: '1751371201000000000',
    status: { code: 'ok' },
    attributes: { [GenAiAttr.operationName]: 'chat', ...attributes },
    organisationId: 'org_a',
    projectId: null,
    keyId: null,
    source: 'gateway',
  };
}

function outcome(p: SpanPricing | null): unknown {
  if (p === null) return null;
  const o = p.outcome;
  return o.priced ? { cost: formatDecimal(o.cost), breakdown: o.breakdown, definitionId: o.definitionId } : { unpriced: o.reason, definitionId: o.definitionId };
}

describe('priceSpan', () => {
  it('prices a chat span: 1234 input at 0.0000025 + 567 output at 0.00001 = 0.008755', () => {
    const p = priceSpan(span({ [GenAiAttr.requestModel]: 'gpt-4o', [GenAiAttr.inputTokens]: 1234, [GenAiAttr.outputTokens]: 567 }), catalogue);
    expect(outcome(p)).toEqual({ cost: '0.008755', breakdown: { input: '0.003085', output: '0.00567' }, definitionId: 'def_4o' });
    expect(p?.call.model).toBe('gpt-4o');
  });

  it('prices a span with cached and reasoning tokens, falling back from cache_write to input', () => {
    const p = priceSpan(
      span({
        [GenAiAttr.requestModel]: 'gpt-4o',
        [GenAiAttr.responseModel]: 'gpt-4o-2024-08-06',
        [GenAiAttr.inputTokens]: 10_000,
        [GenAiAttr.cacheReadTokens]: 6000,
        [GenAiAttr.cacheCreationTokens]: 1000,
        [GenAiAttr.outputTokens]: 2000,
        [GenAiAttr.reasoningTokens]: 1500,
      }),
      catalogue,
    );
    // uncached 3000 x 0.0000025 = 0.0075; cache_read 6000 x 0.00000125 = 0.0075;
    // cache_write 1000 x 0.0000025 (input's price) = 0.0025; text 500 x 0.00001 = 0.005;
    // reasoning 1500 x 0.000012 = 0.018; sum 0.0075 + 0.0075 + 0.0025 + 0.005 + 0.018 = 0.0405
    expect(outcome(p)).toEqual({
      cost: '0.0405',
      breakdown: { input: '0.0075', cache_read: '0.0075', cache_write: '0.0025', output: '0.005', reasoning: '0.018' },
      definitionId: 'def_4o',
    });
    expect(p?.call.model).toBe('gpt-4o-2024-08-06');
  });

  it('leaves an unknown model unpriced with a reason, never at $0', () => {
    expect(outcome(priceSpan(span({ [GenAiAttr.requestModel]: 'mystery-1', [GenAiAttr.inputTokens]: 10 }), catalogue))).toEqual({
      unpriced: 'no_matching_definition',
      definitionId: null,
    });
  });

  it('leaves a span with no model name unpriced', () => {
    expect(outcome(priceSpan(span({ [GenAiAttr.inputTokens]: 10 }), catalogue))).toEqual({ unpriced: 'no_matching_definition', definitionId: null });
  });

  it('leaves a span unpriced when a part it used has no price, naming the part', () => {
    const p = priceSpan(span({ [GenAiAttr.requestModel]: 'input-only', [GenAiAttr.inputTokens]: 10, [GenAiAttr.outputTokens]: 1 }), catalogue);
    expect(outcome(p)).toEqual({ unpriced: 'missing_price:output', definitionId: 'def_in_only' });
  });

  it('leaves a span with more reasoning than output tokens unpriced as inconsistent', () => {
    const p = priceSpan(span({ [GenAiAttr.requestModel]: 'gpt-4o', [GenAiAttr.inputTokens]: 10, [GenAiAttr.outputTokens]: 5, [GenAiAttr.reasoningTokens]: 6 }), catalogue);
    expect(outcome(p)).toEqual({ unpriced: 'inconsistent_usage', definitionId: null });
  });

  it('leaves a span with a negative token count unpriced as inconsistent', () => {
    const p = priceSpan(span({ [GenAiAttr.requestModel]: 'gpt-4o', [GenAiAttr.inputTokens]: -10 }), catalogue);
    expect(outcome(p)).toEqual({ unpriced: 'inconsistent_usage', definitionId: null });
  });

  it('leaves a gateway call without usage unpriced as usage_missing, not $0, though its model has prices', () => {
    const p = priceSpan(span({ [GenAiAttr.requestModel]: 'gpt-4o', [GatewayAttr.model]: 'my-gpt' }), catalogue);
    expect(outcome(p)).toEqual({ unpriced: 'usage_missing', definitionId: null });
    expect(p?.call.usageStatus).toBe('missing');
  });

  it('prices the usage a stream cut short had reported so far', () => {
    const p = priceSpan(
      span({ [GenAiAttr.requestModel]: 'gpt-4o', [GatewayAttr.model]: 'my-gpt', [GatewayAttr.usageStatus]: 'partial', [GenAiAttr.inputTokens]: 1234, [GenAiAttr.outputTokens]: 567 }),
      catalogue,
    );
    expect(outcome(p)).toEqual({ cost: '0.008755', breakdown: { input: '0.003085', output: '0.00567' }, definitionId: 'def_4o' });
    expect(p?.call.usageStatus).toBe('partial');
  });

  it('does not price an agent span that repeats its children’s usage', () => {
    const p = priceSpan(span({ [GenAiAttr.operationName]: 'invoke_agent', [GenAiAttr.requestModel]: 'gpt-4o', [GenAiAttr.inputTokens]: 1234, [GenAiAttr.outputTokens]: 567 }), catalogue);
    expect(p).toBeNull();
  });
});

describe('priceSpan of other instrumentations’ spans (issue 17.2)', () => {
  const otlp = (attributes: Record<string, SpanAttributeValue>): SpanRecord => {
    const s = span({});
    return { ...s, source: 'otlp', attributes };
  };
  // 1000 input at 0.0000025 + 200 output at 0.00001 = 0.0025 + 0.002 = 0.0045
  const EXPECTED = { cost: '0.0045', breakdown: { input: '0.0025', output: '0.002' }, definitionId: 'def_4o' };

  it('reads OpenInference: span kind LLM, llm.model_name, llm.token_count.prompt / completion', () => {
    const p = priceSpan(otlp({ 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o', 'llm.token_count.prompt': 1000, 'llm.token_count.completion': 200 }), catalogue);
    expect(outcome(p)).toEqual(EXPECTED);
    expect(p?.estimated).toBe(false);
  });

  it('reads Traceloop: llm.request.type chat, gen_ai.usage.prompt_tokens, the answer as total minus prompt', () => {
    const p = priceSpan(otlp({ 'llm.request.type': 'chat', [GenAiAttr.requestModel]: 'gpt-4o', 'gen_ai.usage.prompt_tokens': 1000, 'llm.usage.total_tokens': 1200 }), catalogue);
    expect(outcome(p)).toEqual(EXPECTED);
  });

  it('reads Langfuse: a generation with its usage_details JSON', () => {
    const p = priceSpan(otlp({ 'langfuse.observation.type': 'generation', 'langfuse.observation.model.name': 'gpt-4o', 'langfuse.observation.usage_details': '{"input":1000,"output":200}' }), catalogue);
    expect(outcome(p)).toEqual(EXPECTED);
  });

  it('ignores spans that are not model calls: an agent span with usage, an OpenInference chain, a plain HTTP span', () => {
    expect(priceSpan(otlp({ [GenAiAttr.operationName]: 'invoke_agent', [GenAiAttr.requestModel]: 'gpt-4o', [GenAiAttr.inputTokens]: 5 }), catalogue)).toBeNull();
    expect(priceSpan(otlp({ 'openinference.span.kind': 'CHAIN', 'llm.token_count.prompt': 5 }), catalogue)).toBeNull();
    expect(priceSpan(otlp({ 'http.request.method': 'GET' }), catalogue)).toBeNull();
  });

  it('estimates a call with text but no token counts with the definition’s tokenizer (o200k_base) and marks it estimated', () => {
    // "Hello world" is 2 o200k tokens; "Hi there!" is 3 (Hi, there, !).
    const p = priceSpan(otlp({ [GenAiAttr.operationName]: 'chat', [GenAiAttr.requestModel]: 'gpt-4o', 'gen_ai.input.messages': '[{"role":"user","content":"Hello world"}]', 'gen_ai.completion': 'Hi there!' }), catalogue);
    expect(p?.estimated).toBe(true);
    expect(p?.call.usage).toMatchObject({ input: 2n, output: 3n });
    // 2 x 0.0000025 + 3 x 0.00001 = 0.000005 + 0.00003
    expect(outcome(p)).toEqual({ cost: '0.000035', breakdown: { input: '0.000005', output: '0.00003' }, definitionId: 'def_4o' });
  });

  it('estimates with the approximation (4 bytes a token) when the definition has no tokenizer', () => {
    const p = priceSpan(otlp({ 'openinference.span.kind': 'LLM', 'llm.model_name': 'input-only', 'input.value': 'x'.repeat(41) }), catalogue);
    expect(p?.estimated).toBe(true);
    expect(p?.call.usage.input).toBe(11n);
  });

  it('leaves out an OTLP model-call span with neither usage nor text', () => {
    expect(priceSpan(otlp({ [GenAiAttr.operationName]: 'chat', [GenAiAttr.requestModel]: 'gpt-4o' }), catalogue)).toBeNull();
  });
});
