import { emptyUsage, type CanonicalStreamPart } from '../canonical.js';
import { AnthropicEventEncoder } from './anthropic/anthropic-messages-stream.js';
import { OpenAIChatChunkEncoder } from './openai/openai-chat-stream.js';
import { formatSseEvent, type OutgoingSseEvent } from './sse-format.js';

interface Encoder {
  push(part: CanonicalStreamPart): OutgoingSseEvent[];
  pushText(part: CanonicalStreamPart): string;
  end(): OutgoingSseEvent[];
}

const usage = { ...emptyUsage(), input: { total: 9, noCache: 7, cacheRead: 2, cacheWrite: 0 }, output: { total: 4, text: 4, reasoning: 0 } };

/** Streams that visit every case: text before and after metadata, other kinds between texts, two choices, an error. */
const STREAMS: Record<string, CanonicalStreamPart[]> = {
  'text only': [
    { type: 'response-metadata', id: 'id-1', model: 'm"1' },
    { type: 'text-delta', choice: 0, text: 'Hé "there"\n' },
    { type: 'text-delta', choice: 0, text: '😀 </script>' },
    { type: 'finish', choice: 0, reason: 'stop', rawReason: 'stop' },
    { type: 'usage', usage },
  ],
  'mixed kinds and choices': [
    { type: 'text-delta', choice: 0, text: 'before metadata' },
    { type: 'response-metadata', id: 'id-2', model: 'm', created: 5 },
    { type: 'text-delta', choice: 1, text: 'other choice' },
    { type: 'text-delta', choice: 1, text: 'again' },
    { type: 'reasoning-delta', choice: 0, text: 'think' },
    { type: 'text-delta', choice: 0, text: 'after thinking' },
    { type: 'tool-call-start', choice: 0, index: 0, id: 'call_1', name: 'f' },
    { type: 'tool-call-delta', choice: 0, index: 0, inputDelta: '{"a":1}' },
    { type: 'text-delta', choice: 0, text: 'after a tool' },
    { type: 'finish', choice: 0, reason: 'tool-calls', rawReason: 'tool_calls' },
  ],
  'an error': [
    { type: 'text-delta', choice: 0, text: 'a' },
    { type: 'text-delta', choice: 0, text: 'b' },
    { type: 'error', error: { kind: 'overloaded', message: 'busy', retryable: true } },
    { type: 'text-delta', choice: 0, text: 'after the error' },
  ],
};

const ENCODERS: Record<string, () => Encoder> = {
  OpenAIChatChunkEncoder: () => new OpenAIChatChunkEncoder({ fallbackId: 'chatcmpl-x', now: 1, model: 'gw', includeUsage: true }),
  AnthropicEventEncoder: () => new AnthropicEventEncoder({ fallbackId: 'msg_x', model: 'gw' }),
};

describe('stream encoders: pushText writes what push and formatSseEvent write', () => {
  for (const [encoderName, create] of Object.entries(ENCODERS)) {
    for (const [streamName, parts] of Object.entries(STREAMS)) {
      it(`${encoderName}, ${streamName}`, () => {
        const byEvents = create();
        const byText = create();
        for (const part of parts) expect(byText.pushText(part)).toBe(byEvents.push(part).map(formatSseEvent).join(''));
        expect(byText.end()).toEqual(byEvents.end());
      });
    }
  }
});
