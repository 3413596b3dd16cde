import { jest } from '@jest/globals';
import { anthropicStreamEvents, resolveAnswer } from '../../../../../test/support/fake-upstream/anthropic-wire.js';
import type { CanonicalStreamPart } from '../../canonical.js';
import { CHUNK_SPLITS } from '../../testing/chunk-splits.js';
import { createAnthropicMessagesStreamDecoder } from './anthropic-messages-stream.js';

const usage =
  '{"input_tokens":10,"output_tokens":1,"cache_creation_input_tokens":4,"cache_read_input_tokens":3,"cache_creation":{"ephemeral_5m_input_tokens":4,"ephemeral_1h_input_tokens":0},"inference_geo":null,"output_tokens_details":null,"server_tool_use":null,"service_tier":"standard","speed":null}';
const start = (id: string, model: string, u: string, extra = ',"stop_details":null,"container":null,"diagnostics":null'): string =>
  `{"type":"message_start","message":{"id":${id},"type":"message","role":"assistant","model":${model},"content":[],"stop_reason":null,"stop_sequence":null${extra},"usage":${u}}}`;

/** message_start as Anthropic writes it, and near misses that must be read whole. */
const STARTS: Record<string, string> = {
  'as the API writes it': start('"msg_01"', '"claude-sonnet-4-5"', usage),
  'without the newer keys': start('"msg_01"', '"claude"', '{"input_tokens":5,"output_tokens":1}', ''),
  'escaped id, non-ASCII model': start('"msg_\\u00e9\\"1"', '"claud\u00e9"', '{"input_tokens":5,"output_tokens":1}'),
  'empty usage': start('"msg_01"', '"claude"', '{}'),
  'usage without counts': start('"msg_01"', '"claude"', '{"service_tier":"standard"}'),
  'a duplicate usage key': start('"msg_01"', '"claude"', '{"input_tokens":5,"output_tokens":1,"input_tokens":7}'),
  'a usage string with an escape (read whole)': start('"msg_01"', '"claude"', '{"input_tokens":5,"service_tier":"a\\"b"}'),
  'an unknown message key (read whole)': start('"msg_01"', '"claude"', usage, ',"id":null'),
  'content in it (read whole)': '{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"x"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1}}}',
  'usage not an object (read whole)': start('"msg_01"', '"claude"', 'null'),
};

/** The parts of `starts` followed by a message_delta; `whole` adds a space after each data (JSON allows it), which no fast path takes. */
function read(data: string, meteringOnly: boolean, whole: boolean): CanonicalStreamPart[] {
  const decoder = createAnthropicMessagesStreamDecoder({ meteringOnly });
  const delta = '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}';
  const text = [`event: message_start\ndata: ${data}`, `event: message_delta\ndata: ${delta}`].map((e) => `${e}${whole ? ' ' : ''}\n\n`).join('');
  return [...decoder.push(Buffer.from(text))];
}

/** Other events Anthropic writes that have a fast path, and near misses. */
const OTHERS: Record<string, string> = {
  'empty text block start': '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"","citations":null}}',
  'empty text block start at 12, no citations': '{"type":"content_block_start","index":12,"content_block":{"type":"text","text":""}}',
  'text block start with text (read whole)': '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"hi","citations":null}}',
  'block start with a bad index (read whole)': '{"type":"content_block_start","index":-1,"content_block":{"type":"text","text":""}}',
  'message_delta as the API writes it': '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null,"stop_details":null,"container":null},"usage":{"output_tokens":38}}',
  'message_delta with a stop sequence': '{"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"EN\\u0044"},"usage":{"input_tokens":4,"output_tokens":3,"cache_read_input_tokens":2,"server_tool_use":null}}',
  'message_delta with an unknown reason': '{"type":"message_delta","delta":{"stop_reason":"refusal","stop_sequence":null},"usage":{}}',
  'message_delta with a null reason (read whole)': '{"type":"message_delta","delta":{"stop_reason":null,"stop_sequence":null},"usage":{"output_tokens":1}}',
  'message_delta with usage first (read whole)': '{"type":"message_delta","usage":{"output_tokens":1},"delta":{"stop_reason":"end_turn","stop_sequence":null}}',
};

describe('Anthropic stream reader: content_block_start and message_delta without parsing them whole', () => {
  for (const meteringOnly of [true, false]) {
    for (const [name, data] of Object.entries(OTHERS)) {
      it(`${meteringOnly ? 'metering-only' : 'translating'}: reads ${name} exactly as the whole parse does`, () => {
        const events = (whole: boolean): CanonicalStreamPart[] => {
          const decoder = createAnthropicMessagesStreamDecoder({ meteringOnly });
          const type = (JSON.parse(data) as { type: string }).type;
          const text = [`event: message_start\ndata: ${STARTS['as the API writes it']!}`, `event: ${type}\ndata: ${data}`].map((e) => `${e}${whole ? ' ' : ''}\n\n`).join('');
          return [...decoder.push(Buffer.from(text))];
        };
        expect(events(false)).toEqual(events(true));
      });
    }
  }

  it('parses only the usage objects of the events as the API writes them', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const decoder = createAnthropicMessagesStreamDecoder();
      const text = [STARTS['as the API writes it']!, OTHERS['empty text block start']!, OTHERS['message_delta as the API writes it']!].map((d) => `data: ${d}\n\n`).join('');
      const parts = decoder.push(Buffer.from(text));
      expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'usage', 'finish', 'usage']);
      expect(parse.mock.calls.map((c) => c[0])).toEqual([usage, '{"output_tokens":38}']);
    } finally {
      parse.mockRestore();
    }
  });
});

describe('Anthropic stream reader: message_start without parsing it whole', () => {
  for (const meteringOnly of [true, false]) {
    for (const [name, data] of Object.entries(STARTS)) {
      it(`${meteringOnly ? 'metering-only' : 'translating'}: reads message_start ${name} exactly as the whole parse does (and the usage after it)`, () => {
        expect(read(data, meteringOnly, false)).toEqual(read(data, meteringOnly, true));
      });
    }
  }

  it('parses only the usage object of a message_start as the API writes it', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const decoder = createAnthropicMessagesStreamDecoder();
      const parts = decoder.push(Buffer.from(`event: message_start\ndata: ${STARTS['as the API writes it']!}\n\n`));
      expect(parts).toEqual([
        { type: 'response-metadata', id: 'msg_01', model: 'claude-sonnet-4-5' },
        expect.objectContaining({ type: 'usage', usage: expect.objectContaining({ input: { total: 17, noCache: 10, cacheRead: 3, cacheWrite: 4 } }) }),
      ]);
      expect(parse.mock.calls.map((c) => c[0])).toEqual([usage]);
    } finally {
      parse.mockRestore();
    }
  });

  it("reads the test upstream's stream the same whole and by the fast paths, however the bytes are cut", () => {
    const events = anthropicStreamEvents({ content: 'Ünïcødé answer, "quoted"', usage: { inputTokens: 20, cacheReadInputTokens: 5 } }, resolveAnswer({}, 'claude-x'));
    const whole = createAnthropicMessagesStreamDecoder();
    const expected = [...whole.push(Buffer.from(events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)} \n\n`).join(''))), ...whole.end()];
    expect(expected.map((p) => p.type)).toContain('response-metadata');
    const bytes = Buffer.from(events.map((e) => `event: ${e.type}\r\ndata: ${JSON.stringify(e)}\r\n\r\n`).join(''));
    for (const { size } of CHUNK_SPLITS) {
      const decoder = createAnthropicMessagesStreamDecoder();
      const parts: CanonicalStreamPart[] = [];
      for (let i = 0; i < bytes.length; i += size) parts.push(...decoder.push(bytes.subarray(i, Math.min(i + size, bytes.length))));
      parts.push(...decoder.end());
      expect(parts).toEqual(expected);
    }
  });
});
