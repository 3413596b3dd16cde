import { MAX_FAILOVER_MODELS, parseFailoverHeader } from './failover-header.js';

describe('parseFailoverHeader (x-gateway-failover)', () => {
  it("absent: the model's own failoverByDefault decides", () => {
    expect(parseFailoverHeader(undefined)).toEqual({ kind: 'default' });
  });

  it('on / off, in any case and with spaces', () => {
    expect(parseFailoverHeader(' ON ')).toEqual({ kind: 'on' });
    expect(parseFailoverHeader('off')).toEqual({ kind: 'off' });
  });

  it('a list of models, in order, blanks dropped', () => {
    expect(parseFailoverHeader('model-a, model-b,,openai/gpt-4o')).toEqual({ kind: 'models', models: ['model-a', 'model-b', 'openai/gpt-4o'] });
  });

  it('repeated headers read as one list', () => {
    expect(parseFailoverHeader(['model-a', 'model-b'])).toEqual({ kind: 'models', models: ['model-a', 'model-b'] });
  });

  it('an empty value or too many models is invalid, naming the header', () => {
    expect(parseFailoverHeader(' , ')).toEqual({ kind: 'invalid', message: expect.stringContaining('x-gateway-failover') });
    const many = Array.from({ length: MAX_FAILOVER_MODELS + 1 }, (_, i) => `m${i}`).join(',');
    expect(parseFailoverHeader(many)).toEqual({ kind: 'invalid', message: expect.stringContaining(`at most ${MAX_FAILOVER_MODELS}`) });
  });
});
