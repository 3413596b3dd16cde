import { GatewayAttr, GenAiAttr, isGatewayCallSpan, type SpanRecord } from './telemetry.js';

const CALL = { [GenAiAttr.operationName]: 'chat', [GatewayAttr.model]: 'my-gpt' };

function spanOf(source: SpanRecord['source'], attributes: SpanRecord['attributes']): Pick<SpanRecord, 'source' | 'attributes'> {
  return { source, attributes };
}

describe('isGatewayCallSpan', () => {
  it('recognises the gateway’s span of a model call by its gateway model', () => {
    expect(isGatewayCallSpan(spanOf('gateway', CALL))).toBe(true);
    expect(isGatewayCallSpan(spanOf('gateway', { ...CALL, [GenAiAttr.operationName]: 'embeddings' }))).toBe(true);
  });

  it('never takes a span from OTLP intake for a gateway call, whatever attributes it sends', () => {
    expect(isGatewayCallSpan(spanOf('otlp', { ...CALL, [GatewayAttr.usageStatus]: 'missing' }))).toBe(false);
  });

  it('does not take a gateway span without a gateway model, or of an operation that is not a model call, for a call', () => {
    expect(isGatewayCallSpan(spanOf('gateway', { [GenAiAttr.operationName]: 'chat' }))).toBe(false);
    expect(isGatewayCallSpan(spanOf('gateway', { ...CALL, [GatewayAttr.model]: '' }))).toBe(false);
    expect(isGatewayCallSpan(spanOf('gateway', { ...CALL, [GatewayAttr.model]: 42 }))).toBe(false);
    expect(isGatewayCallSpan(spanOf('gateway', { ...CALL, [GenAiAttr.operationName]: 'invoke_agent' }))).toBe(false);
    expect(isGatewayCallSpan(spanOf('gateway', { [GatewayAttr.model]: 'my-gpt' }))).toBe(false);
  });
});
