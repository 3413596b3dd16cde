import { jest } from '@jest/globals';
import { emptyUsage, type CanonicalStreamPart } from '../canonical.js';
import { AnthropicEventEncoder, createAnthropicMessagesStreamDecoder } from './anthropic/anthropic-messages-stream.js';
import { createOpenAIChatStreamDecoder, OpenAIChatChunkEncoder } from './openai/openai-chat-stream.js';
import { formatSseEvent, type OutgoingSseEvent } from './sse-format.js';

/**
 * The stream readers recognise their format's common content event and parse only its text; these
 * pin that the parts are those the whole parse gives, and that any other shape (or a malformed one)
 * still goes through the whole parse, with its errors.
 */
/** The events JSON.parse was given whole (a content delta on the fast path never is). */
function wholeParses(run: () => void): string[] {
  const spy = jest.spyOn(JSON, 'parse');
  try {
    run();
    return spy.mock.calls.map((c) => String(c[0])).filter((text) => text.startsWith('{'));
  } finally {
    spy.mockRestore();
  }
}

const decode = (decoder: ReturnType<typeof createOpenAIChatStreamDecoder>, sse: string): CanonicalStreamPart[] => [...decoder.push(Buffer.from(sse, 'utf8')), ...decoder.end()];

const OPENAI_FIRST =
  'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n';
const OPENAI_END = 'data: [DONE]\n\n';
const openAIDelta = (content: string, more = ''): string =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini"${more},"choices":[{"index":0,"delta":{"content":${content}},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`;
const openAIText = (events: string[]): CanonicalStreamPart[] => decode(createOpenAIChatStreamDecoder(), OPENAI_FIRST + events.join('') + OPENAI_END).filter((p) => p.type !== 'response-metadata');

describe('OpenAI content deltas (fast path)', () => {
  it('gives the text-delta the whole parse gives, escapes and all, with the optional keys OpenAI sends', () => {
    const texts = ['plain', 'a "quote" \\ back\nslash\t', 'é 😀 \u2028', '</script>'];
    const parts = openAIText([
      ...texts.map((t) => openAIDelta(JSON.stringify(t), ',"service_tier":"default","system_fingerprint":"fp_1"')),
      openAIDelta('"\\u00e9\\ud83d\\ude00\\/"'),
      openAIDelta('"x"').replace(',"usage":null}', ',"usage":null,"obfuscation":"abc"}'),
      openAIDelta('""'),
    ]);
    expect(parts).toEqual([...texts, 'é😀/', 'x'].map((text) => ({ type: 'text-delta', choice: 0, text })));
    // No event is parsed whole: the deltas go by the content fast path, the first (its metadata) by the metered-chunk one.
    expect(wholeParses(() => openAIText([openAIDelta('"a"'), openAIDelta('"b"', ',"system_fingerprint":null')]))).toEqual([]);
  });

  it('reads the choice index, and the same parts from an event written with whitespace (the whole parse)', () => {
    const compact = openAIDelta('"hi"').replace('"index":0', '"index":3');
    const spaced = compact.replace('"choices":', '"choices" : ').replace('"content":', '"content": ');
    expect(openAIText([compact])).toEqual([{ type: 'text-delta', choice: 3, text: 'hi' }]);
    expect(openAIText([spaced])).toEqual(openAIText([compact]));
  });

  it('fails the stream on a content that is not valid JSON, as the whole parse does', () => {
    for (const bad of ['"bad \\q escape"', '"raw \u0001 control"', '"unterminated']) {
      const parts = openAIText([openAIDelta(bad)]);
      expect(parts).toHaveLength(1);
      expect(parts[0]).toMatchObject({ type: 'error', error: { message: expect.stringContaining('malformed stream event') } });
    }
    expect(openAIText([openAIDelta('7')])[0]).toMatchObject({ type: 'error', error: { message: expect.stringContaining('delta.content is not a string') } });
  });

  it('still reads a finish, a usage and tool calls beside a content delta (not the fast shape)', () => {
    const finish = openAIDelta('"end"').replace('"finish_reason":null', '"finish_reason":"stop"');
    expect(openAIText([finish])).toEqual([
      { type: 'text-delta', choice: 0, text: 'end' },
      { type: 'finish', choice: 0, reason: 'stop', rawReason: 'stop' },
    ]);
  });
});

const anthropicStream = (events: string[]): string =>
  [
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"usage":{"input_tokens":3,"output_tokens":0}}}\n\n',
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
    ...events.map((data) => `event: content_block_delta\ndata: ${data}\n\n`),
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  ].join('');
const anthropicText = (events: string[]): CanonicalStreamPart[] => decode(createAnthropicMessagesStreamDecoder(), anthropicStream(events)).filter((p) => p.type !== 'response-metadata' && p.type !== 'usage');
const textDelta = (text: string, index = 0): string => `{"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${text}}}`;

describe('Anthropic text deltas (fast path)', () => {
  it('gives the text-delta the whole parse gives, an empty one too, whatever the block index', () => {
    const texts = ['plain', 'a "quote" \\ back\nslash', 'é 😀', ''];
    const parts = anthropicText([...texts.map((t, i) => textDelta(JSON.stringify(t), i)), textDelta('"\\u00e9"')]);
    expect(parts).toEqual([...texts, 'é'].map((text) => ({ type: 'text-delta', choice: 0, text })));
    // This message_start (without the keys the API writes) is parsed whole; the deltas not, nor the
    // empty text block's start, ping, content_block_stop and message_stop as Anthropic writes them
    // (and message_stop still ends the stream).
    const events = [textDelta('"a"'), textDelta('"b"', 1)];
    const withEmpty = (stream: string): string => stream.replace('event: message_stop', 'event: ping\ndata: {"type":"ping"}\n\nevent: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\nevent: message_stop');
    let decoded: CanonicalStreamPart[] = [];
    const parsed = wholeParses(() => (decoded = decode(createAnthropicMessagesStreamDecoder(), withEmpty(anthropicStream(events)))));
    expect(parsed.map((text) => (JSON.parse(text) as { type: string }).type)).toEqual(['message_start']);
    expect(decoded.filter((p) => p.type === 'text-delta' || p.type === 'error')).toEqual([
      { type: 'text-delta', choice: 0, text: 'a' },
      { type: 'text-delta', choice: 0, text: 'b' },
    ]);
    expect(anthropicText([textDelta('"x"').replace('"index":0', '"index" : 0')])).toEqual([{ type: 'text-delta', choice: 0, text: 'x' }]);
  });

  it('fails the stream on a text that is not valid JSON or not a string, as the whole parse does', () => {
    for (const [bad, says] of [
      ['"bad \\q"', 'malformed stream event'],
      ['"raw \u0001"', 'malformed stream event'],
      ['1', 'delta.text is not a string'],
    ] as const) {
      const parts = anthropicText([textDelta(bad)]);
      expect(parts).toHaveLength(1);
      expect(parts[0]).toMatchObject({ type: 'error', error: { message: expect.stringContaining(says) } });
    }
    expect(anthropicText([textDelta('"x"', -1)])[0]).toMatchObject({ type: 'error', error: { message: expect.stringContaining('not a content block index') } });
  });
});

describe('content events written from text (encoders)', () => {
  const texts = ['plain', 'a "quote" \\ back\nslash', 'é 😀 \u2028', ''];
  const usage = emptyUsage();
  const parts = (choices: number[]): CanonicalStreamPart[] => [
    { type: 'response-metadata', id: 'id "1"', model: 'model é', created: 1_700_000_000 },
    ...choices.flatMap((choice) => texts.map((text): CanonicalStreamPart => ({ type: 'text-delta', choice, text }))),
    { type: 'response-metadata', id: 'later', model: 'later-model' },
    { type: 'text-delta', choice: 0, text: 'after' },
    { type: 'finish', choice: 0, reason: 'stop', rawReason: 'stop' },
    { type: 'usage', usage },
  ];
  const check = (events: OutgoingSseEvent[], written: number): void => {
    const withJson = events.filter((e) => e.json !== undefined);
    expect(withJson).toHaveLength(written);
    // Written from text = what JSON.stringify makes of the event's data (read from a written event, data is parsed from its text).
    for (const e of events) expect(formatSseEvent(e)).toBe(formatSseEvent({ event: e.event, data: e.data }));
  };

  it('OpenAI chunks: the text JSON.stringify makes of each chunk, across choices and a metadata change', () => {
    const encoder = new OpenAIChatChunkEncoder({ fallbackId: 'x', now: 1, model: 'gw', includeUsage: true });
    const events = [...parts([0, 1]).flatMap((p) => encoder.push(p)), ...encoder.end()];
    // Every content chunk (each choice's first with the role) and the finish are written from text; the usage chunk and [DONE] are not.
    check(events, texts.length * 2 + 1 + 1);
    // ...and carries the parts' texts, in order, under the metadata in force.
    type Chunk = { id: string; model: string; choices: Array<{ index: number; delta: { content?: string } }> };
    const chunks = events.map((e) => e.data as unknown).filter((d): d is Chunk => typeof d === 'object' && d !== null && 'choices' in d);
    const content = chunks.flatMap((c) => c.choices.filter((x) => x.delta.content !== undefined).map((x) => [x.index, x.delta.content, c.id, c.model]));
    expect(content).toEqual([...[0, 1].flatMap((choice) => texts.map((t) => [choice, t, 'id "1"', 'model é'])), [0, 'after', 'later', 'later-model']]);
  });

  it('Anthropic events: the text JSON.stringify makes of each text delta', () => {
    const encoder = new AnthropicEventEncoder({ fallbackId: 'msg_x', model: 'gw' });
    const events = [...parts([0]).flatMap((p) => encoder.push(p)), ...encoder.end()];
    // The text deltas, and message_start, the block's start and stop and message_stop (message_delta alone is stringified).
    check(events, texts.length + 1 + 4);
    const deltas = events.filter((e) => e.event === 'content_block_delta').map((e) => (e.data as { delta: { text: string } }).delta.text);
    expect(deltas).toEqual([...texts, 'after']);
  });
});

describe('OpenAIChatChunkEncoder: chunks written from text are the chunk objects stringified', () => {
  it('writes a choice\'s first chunk with the role, a later one without, and a finish with the role when no text came before it', () => {
    const encoder = new OpenAIChatChunkEncoder({ fallbackId: 'x', now: 1, model: 'gw', includeUsage: false });
    const base = { id: 'id "1"', object: 'chat.completion.chunk', created: 7, model: 'model é' };
    const parts: CanonicalStreamPart[] = [
      { type: 'response-metadata', id: 'id "1"', model: 'model é', created: 7 },
      { type: 'text-delta', choice: 0, text: 'a "b"' },
      { type: 'text-delta', choice: 0, text: 'c' },
      { type: 'finish', choice: 0, reason: 'length', rawReason: 'length' },
      { type: 'finish', choice: 2, reason: 'stop', rawReason: 'stop' },
    ];
    const written = parts.flatMap((p) => encoder.push(p)).map((e) => formatSseEvent(e));
    const chunk = (index: number, delta: Record<string, unknown>, finish: string | null): string =>
      formatSseEvent({ data: { ...base, choices: [{ index, delta, finish_reason: finish }] } });
    expect(written).toEqual([
      chunk(0, { role: 'assistant', content: 'a "b"' }, null),
      chunk(0, { content: 'c' }, null),
      chunk(0, {}, 'length'),
      chunk(2, { role: 'assistant' }, 'stop'),
    ]);
  });
});
