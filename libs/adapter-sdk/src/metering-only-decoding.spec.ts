import { createAnthropicMessagesStreamDecoder } from './formats/anthropic/anthropic-messages-stream.js';
import { createOpenAIChatStreamDecoder, OPENAI_METERING_EVENT, valueStartsWith } from './formats/openai/openai-chat-stream.js';
import { SseEventSplitter } from './sse-event-splitter.js';
import type { ScannedEvents } from './adapter-v2.js';
import { CHUNK_SPLITS } from './testing/chunk-splits.js';

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

/** The pass-through relay's decoding since scanEvents: whole chunks, markers searched once per chunk. */
describe('metering-only decoding, chunk by chunk (scanEvents)', () => {
  const openAIStream = [
    'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}\n\n',
    // Not JSON at all: a parse would fail the stream, so this proves the event is skipped unread.
    'data: {"choices":[{"delta":{"content":"say \\"finish_reason\\":\\"x\\" [DON"},"finish_reason":null} NOT JSON\n\n',
    ': keep-alive\r\n\r\n',
    'data: {"id":"c1","choices":[{"index":1,"delta":{},"finish_reason": "length"}]}\r\n\r\n',
    'data: {"choices":[{"delta":{"content":"é"},"finish_reason":null}],"usage":null} NOT JSON\n\n',
    'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
    'data: {"id":"c1","choices":[],"usage": \t{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\n',
    'data: [DONE]\n\n',
    'data: {"after":"done"} NOT JSON\n\n',
  ];

  /** Scans `text` in chunks of `size`: the parts, the bytes of whole events in order, and the events counted. */
  function scan(decoder: ReturnType<typeof createOpenAIChatStreamDecoder>, text: string, size: number) {
    const bytes = Buffer.from(text);
    const parts: string[] = [];
    const passed: Buffer[] = [];
    let events = 0;
    const take = (s: ScannedEvents): void => {
      passed.push(s.bytes.subarray(0, s.end));
      events += s.events;
      for (const e of s.read) {
        expect(s.bytes.subarray(e.start, e.end).equals(e.bytes)).toBe(true);
        expect(e.latin1).toBe(e.bytes.toString('latin1'));
        parts.push(...e.parts.map((p) => (p.type === 'finish' ? `finish:${p.choice}:${p.rawReason}` : p.type)));
      }
    };
    for (let i = 0; i < bytes.length; i += size) take(decoder.scanEvents!(bytes.subarray(i, Math.min(i + size, bytes.length))));
    const rest = decoder.scanRest!();
    if (rest) take(rest);
    return { parts, passed: Buffer.concat(passed).toString(), events, end: decoder.end() };
  }

  for (const { name, size } of CHUNK_SPLITS) {
    it(`reads an OpenAI stream's metadata, finishes, usage and [DONE] only, whatever the events' framing, cut ${name}`, () => {
      const r = scan(createOpenAIChatStreamDecoder({ meteringOnly: true }), openAIStream.join(''), size);
      expect(r.parts).toEqual(['response-metadata', 'finish:1:length', 'finish:0:stop', 'usage']);
      expect(r.passed).toBe(openAIStream.join(''));
      expect(r.events).toBe(openAIStream.length);
      expect(r.end).toEqual([]);
    });

    it(`reads an Anthropic stream by its event lines (no markers), cut ${name}`, () => {
      const stream = [
        'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}\n\n',
        'event: ping\ndata: not json\n\n',
        'event: content_block_delta\ndata: not json either\n\n',
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}\n\n',
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
      ];
      const r = scan(createAnthropicMessagesStreamDecoder({ meteringOnly: true }), stream.join(''), size);
      expect(r.parts).toEqual(expect.arrayContaining(['response-metadata', 'usage', 'finish:0:end_turn']));
      expect(r.parts).not.toContain('error');
      expect(r.passed).toBe(stream.join(''));
      expect(r.events).toBe(stream.length);
      expect(r.end).toEqual([]);
    });
  }

  it('terminates a last event the upstream did not terminate (scanRest), and reports the missing [DONE] at the end', () => {
    const r = scan(createOpenAIChatStreamDecoder({ meteringOnly: true }), `${openAIStream[0]}data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`, 1000);
    expect(r.parts).toEqual(['response-metadata', 'finish:0:stop']);
    expect(r.passed).toBe(`${openAIStream[0]}data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n`);
    expect(r.end).toEqual([expect.objectContaining({ type: 'error', error: expect.objectContaining({ message: expect.stringContaining('[DONE]') }) })]);
  });

  it('reads nothing after an error event', () => {
    const stream = `${openAIStream[0]}data: {"error":{"message":"overloaded","type":"server_error"}}\n\n${openAIStream[5]}${openAIStream[7]}`;
    const r = scan(createOpenAIChatStreamDecoder({ meteringOnly: true }), stream, 1000);
    expect(r.parts).toEqual(['response-metadata', 'error']);
    expect(r.events).toBe(4);
  });

  it('reads every event when not metering-only', () => {
    const decoder = createOpenAIChatStreamDecoder();
    const s = decoder.scanEvents!(Buffer.from(openAIEvents()));
    expect(s.read.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(s.read.flatMap((e) => e.parts.map((p) => p.type))).toEqual(['response-metadata', 'text-delta', 'finish']);
  });
});

function openAIEvents(): string {
  return [
    'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n',
    'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n',
    'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
  ].join('');
}
