import { streamPartsFromResponse } from './response-stream-parts.js';
import { emptyUsage } from './canonical.js';

describe('streamPartsFromResponse', () => {
  const usage = { ...emptyUsage(), input: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 }, output: { total: 5, text: 5, reasoning: 0 } };

  it('turns a chat answer into the parts a stream would carry: metadata, usage, content in order, tool calls numbered per choice, finish', () => {
    const parts = streamPartsFromResponse({
      id: 'chatcmpl-1',
      model: 'gpt-4o',
      created: 1_765_000_000,
      usage,
      choices: [
        {
          index: 0,
          finishReason: 'tool-calls',
          rawFinishReason: 'tool_calls',
          content: [
            { type: 'reasoning', text: 'thinking', signature: 'sig' },
            { type: 'text', text: 'Looking.' },
            { type: 'tool-call', toolCallId: 'call_a', toolName: 'a', input: '{"x":1}' },
            { type: 'tool-call', toolCallId: 'call_b', toolName: 'b', input: '' },
          ],
        },
        { index: 1, finishReason: 'stop', content: [{ type: 'text', text: 'Other' }], stopSequence: 'END' },
      ],
    });
    expect(parts).toEqual([
      { type: 'response-metadata', id: 'chatcmpl-1', model: 'gpt-4o', created: 1_765_000_000 },
      { type: 'usage', usage },
      { type: 'reasoning-delta', choice: 0, text: 'thinking' },
      { type: 'reasoning-signature', choice: 0, signature: 'sig' },
      { type: 'text-delta', choice: 0, text: 'Looking.' },
      { type: 'tool-call-start', choice: 0, index: 0, id: 'call_a', name: 'a' },
      { type: 'tool-call-delta', choice: 0, index: 0, inputDelta: '{"x":1}' },
      { type: 'tool-call-start', choice: 0, index: 1, id: 'call_b', name: 'b' },
      { type: 'finish', choice: 0, reason: 'tool-calls', rawReason: 'tool_calls' },
      { type: 'text-delta', choice: 1, text: 'Other' },
      { type: 'finish', choice: 1, reason: 'stop', stopSequence: 'END' },
    ]);
  });

  it('turns a completions answer into text deltas and finishes, without usage when there is none', () => {
    expect(streamPartsFromResponse({ choices: [{ index: 0, text: 'abc', finishReason: 'length', rawFinishReason: 'length' }] })).toEqual([
      { type: 'response-metadata' },
      { type: 'text-delta', choice: 0, text: 'abc' },
      { type: 'finish', choice: 0, reason: 'length', rawReason: 'length' },
    ]);
  });
});
