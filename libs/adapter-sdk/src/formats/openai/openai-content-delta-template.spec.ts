import { jest } from '@jest/globals';
import { chatCompletionChunks } from '../../../../../test/support/fake-upstream/openai-wire.js';
import type { CanonicalStreamPart } from '../../canonical.js';
import { createOpenAIChatStreamDecoder, nextOpenAIMeteringMarker, OpenAIContentDeltaTemplate } from './openai-chat-stream.js';

const base = '"id":"chatcmpl-1","object":"chat.completion.chunk","created":1765000000,"model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_1"';
const delta = (literal: string, tail = ',"logprobs":null,"finish_reason":null}],"usage":null}'): string =>
  `data: {${base},"choices":[{"index":0,"delta":{"content":${literal}}${tail}\n\n`;

/** Content literals the template must take as they are, and events that must stop it. */
const LITERALS = ['"Hello"', '" world"', '""', '"a\\"b"', '"back\\\\"', '"\\\\\\"q"', '"caf\u00c3\u00a9"', '"\\u00e9\\n"', '"[DON"'];
const STOPS: Record<string, string> = {
  'content [DONE]': delta('"[DONE]"'),
  'content that is exactly "error"': delta('"error"'),
  'another choice': `data: {${base},"choices":[{"index":1,"delta":{"content":"x"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
  'a finish': delta('"x"', ',"logprobs":null,"finish_reason":"stop"}],"usage":null}'),
  'a usage object after the text': delta('"x"', ',"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":1}}'),
  'a quote the literal does not escape': delta('"a"b"'),
  'a key after the text': delta('"x","usage":{"total_tokens":2},"y":"z"'),
  'a line break in the literal': delta('"a\n\nb"'),
  'CRLF framing': delta('"x"').replace('\n\n', '\r\n\r\n'),
  'an error event': 'data: {"error":{"message":"overloaded"}}\n\n',
  '[DONE]': 'data: [DONE]\n\n',
};

/** A content delta as OpenAI streams it by default: an obfuscation value of its own, last. */
const obfuscated = (literal: string, value: string): string => delta(literal, `,"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":${value}}`);
const OBFUSCATION_VALUES = ['"k3Xy"', '""', '"AbCdEf0123_-+/="', '"zz"'];
/** Events that must stop a template learnt from an obfuscated delta. */
const OBFUSCATED_STOPS: Record<string, string> = {
  'an obfuscation value that is exactly "error"': obfuscated('"x"', '"error"'),
  'an obfuscation value holding [DONE]': obfuscated('"x"', '"[DONE]"'),
  'an obfuscation value with an escape': obfuscated('"x"', '"a\\"b"'),
  'an obfuscation value not ASCII-plain': obfuscated('"x"', '"caf\u00e9"'),
  'a member after the obfuscation': obfuscated('"x"', '"k","usage":{"total_tokens":2}'),
  'a delta without obfuscation': delta('"x"'),
  'a finish': `data: {${base},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null,"obfuscation":"q"}\n\n`,
};

/** The plain search the template stands in for, from an event's start. */
const plain = (text: string, from: number): number => nextOpenAIMeteringMarker(text, from);
/** The reader's search: the template's skip, then the plain search from where it stopped. */
function templated(template: OpenAIContentDeltaTemplate, text: string, from: number): number {
  const at = template.skip(text, from);
  return at === text.length ? -1 : nextOpenAIMeteringMarker(text, at);
}

describe('OpenAIContentDeltaTemplate: content deltas skipped by comparison with the first', () => {
  it('skips a run of content deltas that differ only in their text (the fast path is taken)', () => {
    const text = LITERALS.map((l) => delta(l)).join('');
    expect(new OpenAIContentDeltaTemplate().skip(text, 0)).toBe(text.length);
    expect(templated(new OpenAIContentDeltaTemplate(), text, 0)).toBe(-1);
  });

  it("skips the test upstream's content deltas up to its finish chunk", () => {
    const events = chatCompletionChunks({ chunks: 20 }, 'gpt-4o-mini', true).map((c) => `data: ${JSON.stringify(c)}\n\n`);
    const text = [...events, 'data: [DONE]\n\n'].join('');
    const firstContent = events[0]!.length;
    const finish = events.slice(0, 21).join('').length;
    expect(new OpenAIContentDeltaTemplate().skip(text, firstContent)).toBe(finish);
  });

  for (const [name, stop] of Object.entries(STOPS)) {
    it(`stops at ${name}, and finds the marker the plain search finds from anywhere before it`, () => {
      const before = [delta('"Hi"'), delta('" there"')].join('');
      const text = before + stop + delta('"after"') + 'data: [DONE]\n\n';
      expect(new OpenAIContentDeltaTemplate().skip(text, 0)).toBe(before.length);
      for (const from of [0, delta('"Hi"').length, before.length]) {
        const template = new OpenAIContentDeltaTemplate();
        template.skip(text, 0); // learnt on the first event
        expect(templated(template, text, from)).toBe(plain(text, from));
      }
    });
  }

  it('skips obfuscated content deltas (a value of their own in each), and the fast path is taken', () => {
    const text = LITERALS.map((l, i) => obfuscated(l, OBFUSCATION_VALUES[i % OBFUSCATION_VALUES.length]!)).join('');
    expect(new OpenAIContentDeltaTemplate().skip(text, 0)).toBe(text.length);
    expect(templated(new OpenAIContentDeltaTemplate(), text, 0)).toBe(-1);
  });

  for (const [name, stop] of Object.entries(OBFUSCATED_STOPS)) {
    it(`learnt from an obfuscated delta, stops at ${name} and finds the marker the plain search finds`, () => {
      const before = [obfuscated('"Hi"', '"a1"'), obfuscated('" there"', '"b22"')].join('');
      const text = before + stop + obfuscated('"after"', '"c"') + 'data: [DONE]\n\n';
      expect(new OpenAIContentDeltaTemplate().skip(text, 0)).toBe(before.length);
      for (const from of [0, obfuscated('"Hi"', '"a1"').length, before.length]) {
        const template = new OpenAIContentDeltaTemplate();
        template.skip(text, 0);
        expect(templated(template, text, from)).toBe(plain(text, from));
      }
    });
  }

  it('learnt from a delta without obfuscation, stops at an obfuscated one', () => {
    const before = [delta('"Hi"'), delta('" there"')].join('');
    const text = before + obfuscated('"x"', '"k"') + 'data: [DONE]\n\n';
    expect(new OpenAIContentDeltaTemplate().skip(text, 0)).toBe(before.length);
  });

  it('learns nothing from an event that is not a plain content delta, and then leaves every search to the plain one', () => {
    // (A content delta whose text is a marker, or of another choice, is one to learn from.)
    for (const [name, first] of Object.entries(STOPS)) {
      if (name.startsWith('content') || name === 'another choice') continue;
      const text = first + delta('"Hi"') + 'data: [DONE]\n\n';
      const template = new OpenAIContentDeltaTemplate();
      expect(template.skip(text, 0)).toBe(0);
      expect(template.skip(text, first.length)).toBe(first.length);
    }
  });

  it('equals the plain search on random runs of content deltas and other events, from every event start', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pool = [...LITERALS.map((l) => delta(l)), ...Object.values(STOPS), ...Object.values(OBFUSCATED_STOPS)];
    for (let round = 0; round < 400; round++) {
      // Half the runs are streams of obfuscated deltas, as OpenAI sends by default.
      const content = round % 2 === 0 ? (l: string): string => delta(l) : (l: string): string => obfuscated(l, OBFUSCATION_VALUES[random(OBFUSCATION_VALUES.length)]!);
      const events = Array.from({ length: 1 + random(8) }, () => (random(3) === 0 ? pool[random(pool.length)]! : content(LITERALS[random(LITERALS.length)]!)));
      const text = events.join('');
      const template = new OpenAIContentDeltaTemplate();
      let from = 0;
      for (const e of events) {
        expect(templated(template, text, from)).toBe(plain(text, from));
        from += e.length;
      }
    }
  });
});

describe('OpenAI stream decoding (translation): content deltas read by the template', () => {
  const role = `data: {${base},"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`;
  const finish = `data: {${base},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}\n\ndata: [DONE]\n\n`;
  /** The parts a fresh decoder reads of `text`, in the chunks `cuts` makes. */
  function decode(text: string, cuts: number[] = []): CanonicalStreamPart[] {
    const decoder = createOpenAIChatStreamDecoder();
    const bytes = Buffer.from(text, 'latin1');
    const out: CanonicalStreamPart[] = [];
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      out.push(...decoder.push(bytes.subarray(from, cut)));
      from = cut;
    }
    return [...out, ...decoder.end()];
  }
  /** The same events with a space after each data (JSON allows it): no fast path takes them, the whole parse reads them. */
  const whole = (text: string): string => text.replaceAll('}\n\n', '} \n\n');

  it('reads a run of content deltas as the whole parse does, by the template (an ASCII chunk)', () => {
    const ascii = LITERALS.filter((l) => /^[\x20-\x7e]*$/.test(l));
    const text = role + ascii.map((l) => delta(l)).join('') + finish;
    const read = jest.spyOn(OpenAIContentDeltaTemplate.prototype, 'read');
    try {
      expect(decode(text)).toEqual(decode(whole(text)));
      const taken = read.mock.results.filter((r) => r.value !== undefined).length;
      expect(taken).toBe(ascii.length);
    } finally {
      read.mockRestore();
    }
  });

  it('reads as the whole parse does whatever the events and however the bytes are cut', () => {
    let seed = 11;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pool = [
      ...LITERALS.map((l) => delta(l)),
      ...Object.entries(STOPS).filter(([name]) => !name.includes('line break') && name !== '[DONE]' && name !== 'CRLF framing').map(([, e]) => e),
      ...Object.entries(OBFUSCATED_STOPS).filter(([name]) => !name.includes('[DONE]') && name !== 'a finish').map(([, e]) => e),
    ];
    for (let round = 0; round < 300; round++) {
      const content = round % 2 === 0 ? (l: string): string => delta(l) : (l: string): string => obfuscated(l, OBFUSCATION_VALUES[random(OBFUSCATION_VALUES.length)]!);
      const events = Array.from({ length: 1 + random(8) }, () => (random(3) === 0 ? pool[random(pool.length)]! : content(LITERALS[random(LITERALS.length)]!)));
      const text = role + events.join('') + finish;
      const cuts = [random(text.length), random(text.length)].sort((a, b) => a - b);
      expect(decode(text, cuts)).toEqual(decode(whole(text)));
    }
  });

  it('reads a run of obfuscated content deltas as the whole parse does, by the template', () => {
    const ascii = LITERALS.filter((l) => /^[\x20-\x7e]*$/.test(l));
    const text = role + ascii.map((l, i) => obfuscated(l, OBFUSCATION_VALUES[i % OBFUSCATION_VALUES.length]!)).join('') + finish;
    const read = jest.spyOn(OpenAIContentDeltaTemplate.prototype, 'read');
    try {
      expect(decode(text)).toEqual(decode(whole(text)));
      expect(read.mock.results.filter((r) => r.value !== undefined).length).toBe(ascii.length);
    } finally {
      read.mockRestore();
    }
  });

  it('reads a non-ASCII chunk without the template, as before', () => {
    const text = role + delta('"h\u00e9"') + delta('"\u00e9t\u00e9"') + finish;
    const utf8 = Buffer.from(text, 'utf8').toString('latin1');
    expect(decode(utf8)).toEqual(decode(whole(utf8)));
  });
});
