import { emptyUsage, type CanonicalStreamPart } from '../../canonical.js';
import { formatSseEvent } from '../sse-format.js';
import { AnthropicEventEncoder } from './anthropic-messages-stream.js';

/** message_start as the encoder built it as an object, stringified whole: what its written text must equal. */
function messageStart(id: string, model: string, usage: { noCache: number; output: number; cacheRead: number; cacheWrite: number }): string {
  const data = {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage: {
        input_tokens: usage.noCache,
        output_tokens: usage.output,
        cache_read_input_tokens: usage.cacheRead,
        cache_creation_input_tokens: usage.cacheWrite,
        cache_creation: null,
        output_tokens_details: null,
        server_tool_use: null,
        inference_geo: null,
        service_tier: null,
        speed: null,
      },
    },
  };
  return `event: message_start\ndata: ${JSON.stringify(data)}\n\n`;
}

const event = (type: string, data: unknown): string => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

describe('AnthropicEventEncoder: the events it writes from text are what JSON.stringify makes of the event objects', () => {
  const cases: Array<{ id: string; model: string; usage?: { input: { total: number; noCache: number; cacheRead: number; cacheWrite: number }; output: { total: number; text: number; reasoning: number } } }> = [
    { id: 'msg_1', model: 'claude' },
    { id: 'm"\\é\u2028😀', model: 'mod\nèle' },
    { id: 'msg_2', model: 'c', usage: { input: { total: 17, noCache: 10, cacheRead: 3, cacheWrite: 4 }, output: { total: 7, text: 7, reasoning: 0 } } },
    { id: 'msg_3', model: 'c', usage: { input: { total: NaN, noCache: NaN, cacheRead: 0, cacheWrite: Infinity }, output: { total: -0, text: 0, reasoning: 0 } } },
  ];
  for (const c of cases) {
    it(`writes message_start, block starts and stops and message_stop as stringified objects (id ${JSON.stringify(c.id)})`, () => {
      const encoder = new AnthropicEventEncoder({ fallbackId: 'msg_x', model: 'gw' });
      const parts: CanonicalStreamPart[] = [{ type: 'response-metadata', id: c.id, model: c.model }];
      if (c.usage) parts.push({ type: 'usage', usage: { ...emptyUsage(), ...c.usage } });
      parts.push({ type: 'text-delta', choice: 0, text: 'hi' }, { type: 'reasoning-delta', choice: 0, text: 'think' }, { type: 'finish', choice: 0, reason: 'stop', rawReason: 'stop' });
      let text = '';
      for (const p of parts) for (const e of encoder.push(p)) text += formatSseEvent(e);
      for (const e of encoder.end()) text += formatSseEvent(e);
      const u = c.usage ?? emptyUsage();
      const expected =
        messageStart(c.id, c.model, { noCache: u.input.noCache, output: u.output.total, cacheRead: u.input.cacheRead, cacheWrite: u.input.cacheWrite }) +
        event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: null } }) +
        event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } }) +
        event('content_block_stop', { type: 'content_block_stop', index: 0 }) +
        event('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
        event('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'thinking_delta', thinking: 'think' } }) +
        event('content_block_stop', { type: 'content_block_stop', index: 1 });
      expect(text.slice(0, expected.length)).toBe(expected);
      expect(text.endsWith(event('message_stop', { type: 'message_stop' }))).toBe(true);
    });
  }
});
