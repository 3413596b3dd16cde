import { createAnthropicMessagesStreamDecoder } from './formats/anthropic/anthropic-messages-stream.js';
import { createOpenAIChatStreamDecoder, OPENAI_METERING_EVENT, valueStartsWith } from './formats/openai/openai-chat-stream.js';
import { SseEventSplitter } from './sse-event-splitter.js';

const events = (text: string) => new SseEventSplitter().push(Buffer.from(text));

/** The pass-through relay's decoding: it splits the stream once and hands each event over; content deltas are not parsed. */
describe('metering-only decoding, event by event', () => {
  it('reads the metadata, the finish (with or without a space after the colon) and the usage of an OpenAI stream, and skips content deltas unparsed', () => {
    const decoder = createOpenAIChatStreamDecoder({ meteringOnly: true });
    const stream = [
      'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n',
      // Not JSON at all: a parse would fail the stream, so this proves the event is skipped unread.
      'data: {"choices":[{"delta":{"content":"hi"},"finish_reason":null} NOT JSON\n\n',
      'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason": "stop"}]}\n\n',
      'data: {"id":"c1","choices":[],"usage": {"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\n',
      'data: [DONE]\n\n',
    ].join('');
    const parts = events(stream).flatMap((e) => [...decoder.pushEvent!(e)]);
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'finish', 'usage']);
    expect(decoder.end()).toEqual([]);
  });

  it('reports an OpenAI stream that ends without [DONE] as an error part', () => {
    const decoder = createOpenAIChatStreamDecoder({ meteringOnly: true });
    for (const e of events('data: {"id":"c1","model":"m","choices":[]}\n\n')) decoder.pushEvent!(e);
    expect(decoder.end()).toEqual([expect.objectContaining({ type: 'error' })]);
  });

  it('skips Anthropic content deltas and pings by their event line, and reads message_delta and message_stop', () => {
    const decoder = createAnthropicMessagesStreamDecoder({ meteringOnly: true });
    const stream = [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}\n\n',
      'event: ping\ndata: not json\n\n',
      'event: content_block_delta\ndata: not json either\n\n',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}\n\n',
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ].join('');
    const parts = events(stream).flatMap((e) => [...decoder.pushEvent!(e)]);
    expect(parts.map((p) => p.type)).toEqual(expect.arrayContaining(['response-metadata', 'usage', 'finish']));
    expect(parts.some((p) => p.type === 'error')).toBe(false);
    expect(decoder.end()).toEqual([]);
  });

  it('finds a key whose value starts with a character, past JSON whitespace, and not a null one', () => {
    expect(valueStartsWith('{"finish_reason": \t"stop"}', '"finish_reason":', 34)).toBe(true);
    expect(valueStartsWith('{"finish_reason":null}', '"finish_reason":', 34)).toBe(false);
    expect(valueStartsWith('{"a":{"usage":null},"usage":{"x":1}}', '"usage":', 123)).toBe(true);
  });

  it('picks the events metering must parse with one regular expression: [DONE], an error, a usage object, a string finish reason', () => {
    const needs = (t: string): boolean => OPENAI_METERING_EVENT.test(t);
    expect(needs('data: {"choices":[{"delta":{"content":"hi"},"finish_reason":null}],"usage":null}\n\n')).toBe(false);
    expect(needs('data: {"choices":[{"delta":{"content":"say \\"error\\" [DON"},"finish_reason":null}]}\n\n')).toBe(false);
    expect(needs('data: {"finish_reason": \t"stop"}\n\n')).toBe(true);
    expect(needs('data: {"finish_reason" : "stop"}\n\n')).toBe(true);
    expect(needs('data: {"a":{"usage":null},"usage":\n{"x":1}}\n\n')).toBe(true);
    expect(needs('data: {"error":{"message":"x"}}\n\n')).toBe(true);
    expect(needs('data: [DONE]\n\n')).toBe(true);
  });
});
