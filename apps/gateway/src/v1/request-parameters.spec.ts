import { applyModelParameters, outputFillField, type ParameterFields } from './request-parameters.js';

const chat: ParameterFields = {
  fields: { temperature: 'temperature', top_p: 'top_p', stop: 'stop', seed: 'seed', presence_penalty: 'presence_penalty', frequency_penalty: 'frequency_penalty' },
  outputFields: ['max_completion_tokens', 'max_tokens'],
};
const anthropic: ParameterFields = { fields: { temperature: 'temperature', top_p: 'top_p', top_k: 'top_k', stop: 'stop_sequences' }, outputFields: ['max_tokens'], stopAsArray: true };

describe('applyModelParameters', () => {
  it('fills only what the request leaves out with defaults', () => {
    const body: Record<string, unknown> = { temperature: 0.1, max_completion_tokens: 20 };
    applyModelParameters(body, { temperature: 0.7, top_p: 0.9, max_tokens: 50, seed: 7, top_k: 3 }, chat, false);
    expect(body).toEqual({ temperature: 0.1, max_completion_tokens: 20, top_p: 0.9, seed: 7 }); // no top_k in OpenAI's format
  });

  it('fills max_tokens when no output bound is present', () => {
    const body: Record<string, unknown> = {};
    applyModelParameters(body, { max_tokens: 50 }, chat, false);
    expect(body).toEqual({ max_tokens: 50 });
  });

  it('fills the output field the adapter reads', () => {
    const fields = { ...chat, fillOutputFieldByAdapter: { openai: 'max_completion_tokens' } };
    const body: Record<string, unknown> = {};
    applyModelParameters(body, { max_tokens: 50 }, fields, false, outputFillField(fields, 'openai'));
    expect(body).toEqual({ max_completion_tokens: 50 });
    expect(outputFillField(fields, 'openai-compatible')).toBe('max_tokens');
  });

  it("overrides the request's values with the model name's parameters, in the field the request used", () => {
    const body: Record<string, unknown> = { temperature: 0.1, max_completion_tokens: 20 };
    applyModelParameters(body, { temperature: 0.2, max_tokens: 30 }, chat, true);
    expect(body).toEqual({ temperature: 0.2, max_completion_tokens: 30 });
  });

  it("writes stop as Anthropic's stop_sequences array", () => {
    const body: Record<string, unknown> = { max_tokens: 10 };
    applyModelParameters(body, { stop: 'END', top_k: 5 }, anthropic, false);
    expect(body).toEqual({ max_tokens: 10, stop_sequences: ['END'], top_k: 5 });
  });
});
