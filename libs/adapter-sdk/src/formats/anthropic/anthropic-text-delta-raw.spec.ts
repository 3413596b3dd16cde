import { jest } from '@jest/globals';
import type { CanonicalStreamPart } from '../../canonical.js';
import { AnthropicMessagesStreamReader, createAnthropicMessagesStreamDecoder } from './anthropic-messages-stream.js';

const start = 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}\n\n';
const end = 'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
const delta = (literal: string, index = '0'): string => `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${literal}}}\n\n`;

/** Text deltas as Anthropic frames them (read where they stand), and near misses (read as before). */
const TAKEN = [delta('"Hello"'), delta('""'), delta('"a\\"b\\\\"'), delta('"\\u00e9\\n"', '7'), delta('"x"', '123456789')];
const NOT_TAKEN: Record<string, string> = {
  'a ten-digit index': delta('"x"', '1234567890'),
  'a leading zero': delta('"x"', '01'),
  'a negative index': delta('"x"', '-1'),
  'a raw control character': delta('"a\tb"'),
  'a bad escape': delta('"a\\xb"'),
  'an unterminated literal': 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ab}}\n\n',
  'a key after the text': delta('"x","y":1'),
  'CRLF framing': delta('"x"').replaceAll('\n', '\r\n'),
  'no event line': delta('"x"').slice('event: content_block_delta\n'.length),
  'a thinking delta': 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"x"}}\n\n',
  'an id line': delta('"x"').replace('\ndata:', '\nid: 4\ndata:'),
};

/** The parts of `text` read by a fresh translating decoder. */
function decode(text: string): CanonicalStreamPart[] {
  const decoder = createAnthropicMessagesStreamDecoder();
  return [...decoder.push(Buffer.from(text, 'latin1')), ...decoder.end()];
}
/** The parts read() makes of every event of `text` (readRaw declines them all): the path readRaw stands in for. */
function decodeByRead(text: string): CanonicalStreamPart[] {
  const raw = jest.spyOn(AnthropicMessagesStreamReader.prototype, 'readRaw').mockReturnValue(undefined);
  try {
    return decode(text);
  } finally {
    raw.mockRestore();
  }
}

describe('Anthropic stream reader: text deltas read where they stand (readRaw)', () => {
  it('reads the text deltas Anthropic writes as read() does, by readRaw', () => {
    const text = start + TAKEN.join('') + end;
    const expected = decodeByRead(text);
    const raw = jest.spyOn(AnthropicMessagesStreamReader.prototype, 'readRaw');
    try {
      expect(decode(text)).toEqual(expected);
      expect(raw.mock.results.filter((r) => r.value !== undefined)).toHaveLength(TAKEN.length);
    } finally {
      raw.mockRestore();
    }
  });

  for (const [name, event] of Object.entries(NOT_TAKEN)) {
    it(`leaves ${name} to read() and reads it as before`, () => {
      const text = start + event + delta('"after"') + end;
      const expected = decodeByRead(text);
      const raw = jest.spyOn(AnthropicMessagesStreamReader.prototype, 'readRaw');
      try {
        expect(decode(text)).toEqual(expected);
        expect(raw.mock.results.filter((r) => r.value !== undefined).length).toBeLessThanOrEqual(1);
      } finally {
        raw.mockRestore();
      }
    });
  }

  it('is not used when metering only (content deltas stay skipped unread)', () => {
    const raw = jest.spyOn(AnthropicMessagesStreamReader.prototype, 'readRaw');
    try {
      const decoder = createAnthropicMessagesStreamDecoder({ meteringOnly: true });
      const parts = decoder.push(Buffer.from(start + TAKEN.join('') + end));
      expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'usage', 'finish', 'usage']);
      expect(raw).not.toHaveBeenCalled();
    } finally {
      raw.mockRestore();
    }
  });
});
