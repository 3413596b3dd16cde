import { GatewayAttr, GenAiAttr, type SpanAttributeValue } from '#libs/contracts';
import { CallMetering, STREAMED_TEXT_LIMIT } from './call-metering.js';

/** The span a CallMetering writes to, kept as plain attributes. */
function fakeSpan(): { attributes: Record<string, SpanAttributeValue>; ended: boolean; setAttribute: (k: string, v: SpanAttributeValue) => void; setError: () => void; end: () => void } {
  const span = {
    attributes: {} as Record<string, SpanAttributeValue>,
    ended: false,
    setAttribute: (k: string, v: SpanAttributeValue) => {
      span.attributes[k] = v;
    },
    setError: () => undefined,
    end: () => {
      span.ended = true;
    },
  };
  return span;
}

const cutShort = { kind: 'upstream_error' as const, message: 'the client closed the connection before the answer was complete', retryable: false };
const usage = { input: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 }, output: { total: 4, text: 4, reasoning: 0 }, extra: {} };

describe('CallMetering of a stream cut short (issue 17.4)', () => {
  it('puts the prompt, the text streamed and the content events on a span without usage, as partial, for metering to estimate', () => {
    const span = fakeSpan();
    const metering = new CallMetering(span as never, () => ['Hello world']);
    metering.streamStarted();
    metering.part({ type: 'text-delta', choice: 0, text: 'One' });
    metering.part({ type: 'text-delta', choice: 0, text: ' two' });
    metering.fail(cutShort);
    metering.end();
    expect(span.attributes).toMatchObject({ [GenAiAttr.prompt]: ['Hello world'], [GenAiAttr.completion]: 'One two', [GatewayAttr.streamedContentEvents]: 2, [GatewayAttr.usageStatus]: 'partial' });
    expect(span.attributes).not.toHaveProperty(GenAiAttr.inputTokens);
  });

  it('counts the content events a pass-through relay left unparsed', () => {
    const span = fakeSpan();
    const metering = new CallMetering(span as never, () => ['hi']);
    metering.streamStarted();
    for (let i = 0; i < 3; i++) metering.contentEventPassed();
    metering.fail(cutShort);
    metering.end();
    expect(span.attributes).toMatchObject({ [GatewayAttr.streamedContentEvents]: 3, [GatewayAttr.usageStatus]: 'partial' });
    expect(span.attributes).not.toHaveProperty(GenAiAttr.completion);
  });

  it('records the usage seen so far instead, and keeps no text, when usage came before the cut', () => {
    const span = fakeSpan();
    let promptRead = false;
    const metering = new CallMetering(span as never, () => {
      promptRead = true;
      return ['never read'];
    });
    metering.streamStarted();
    metering.part({ type: 'usage', usage });
    metering.part({ type: 'text-delta', choice: 0, text: 'more' });
    metering.fail(cutShort);
    metering.end();
    expect(span.attributes).toMatchObject({ [GenAiAttr.inputTokens]: 10, [GenAiAttr.outputTokens]: 4, [GatewayAttr.usageStatus]: 'partial' });
    expect(span.attributes).not.toHaveProperty(GenAiAttr.prompt);
    expect(promptRead).toBe(false);
  });

  it('puts no text on a whole answer without usage (missing usage, not an estimate), nor on a stream that ended well', () => {
    const whole = fakeSpan();
    const m1 = new CallMetering(whole as never, () => ['x']);
    m1.end();
    expect(whole.attributes[GatewayAttr.usageStatus]).toBe('missing');
    expect(whole.attributes).not.toHaveProperty(GenAiAttr.prompt);
    const ended = fakeSpan();
    const m2 = new CallMetering(ended as never, () => ['x']);
    m2.streamStarted();
    m2.part({ type: 'text-delta', choice: 0, text: 'fine' });
    m2.end();
    expect(ended.attributes[GatewayAttr.usageStatus]).toBe('missing');
    expect(ended.attributes).not.toHaveProperty(GenAiAttr.completion);
  });

  it('keeps at most STREAMED_TEXT_LIMIT of streamed text (the estimate then counts the events too)', () => {
    const span = fakeSpan();
    const metering = new CallMetering(span as never, () => []);
    metering.streamStarted();
    const piece = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 10; i++) metering.part({ type: 'text-delta', choice: 0, text: piece });
    metering.fail(cutShort);
    metering.end();
    expect((span.attributes[GenAiAttr.completion] as string).length).toBe(STREAMED_TEXT_LIMIT);
    expect(span.attributes[GatewayAttr.streamedContentEvents]).toBe(10);
  });
});
