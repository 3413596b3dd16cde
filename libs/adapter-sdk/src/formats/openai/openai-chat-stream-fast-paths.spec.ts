import { jest } from '@jest/globals';
import { chatCompletionChunks } from '../../../../../test/support/fake-upstream/openai-wire.js';
import type { CanonicalStreamPart } from '../../canonical.js';
import { CHUNK_SPLITS } from '../../testing/chunk-splits.js';
import { createOpenAIChatStreamDecoder } from './openai-chat-stream.js';

const base = '"id":"chatcmpl-1","object":"chat.completion.chunk","created":1765000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_1"';
const usage = '{"prompt_tokens":12,"completion_tokens":20,"total_tokens":32,"prompt_tokens_details":{"cached_tokens":4,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":6,"audio_tokens":1,"accepted_prediction_tokens":0,"rejected_prediction_tokens":2}}';

/** Chunks as OpenAI writes them (compact, its key order), and near misses that must be read whole. */
const CHUNKS: Record<string, string> = {
  role: `{${base},"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}`,
  'role, no refusal, obfuscated': `{${base},"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"obfuscation":"a\\"b"}`,
  'escaped id and non-ASCII model': `{"id":"c\\u00e9\\"1","object":"chat.completion.chunk","created":-1.5e3,"model":"mod\\u00e8le-é","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
  'Azure opening chunk (empty id and model)': `{"id":"","object":"chat.completion.chunk","created":0,"model":"","choices":[{"index":0,"delta":{},"finish_reason":null}]}`,
  'empty id only': `{"id":"","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":null}]}`,
  finish: `{${base},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}`,
  'finish of choice 3, escaped reason': `{${base},"choices":[{"index":3,"delta":{},"finish_reason":"tool\\u005fcalls"}]}`,
  'empty finish reason': `{${base},"choices":[{"index":0,"delta":{},"finish_reason":""}]}`,
  'finish with content': `{${base},"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"length"}]}`,
  'finish with role and text': `{${base},"choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`,
  'two choices': `{${base},"choices":[{"index":0,"delta":{},"finish_reason":"stop"},{"index":1,"delta":{},"finish_reason":"length"}]}`,
  usage: `{${base},"choices":[],"usage":${usage}}`,
  'usage, obfuscated': `{${base},"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4},"obfuscation":"xyz"}`,
  'usage with a null detail': `{${base},"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4,"prompt_tokens_details":null}}`,
  'usage with a string (read whole)': `{${base},"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"note":"x"}}`,
  'usage without counts': `{${base},"choices":[],"usage":{"total_tokens":4}}`,
  'usage with a non-integer count': `{${base},"choices":[],"usage":{"prompt_tokens":3.5,"completion_tokens":-1}}`,
  'usage with a duplicate key': `{${base},"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"prompt_tokens":9}}`,
  'usage and a finish': `{${base},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`,
  'content delta': `{${base},"choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}`,
  'an extra key': `{${base},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_extra":1}`,
  'error instead': `{"error":{"message":"overloaded","type":"server_error"}}`,
};

/**
 * The parts of `events` (data texts) read in order by a fresh decoder; `whole` adds a space after
 * each (JSON allows it), which no fast path takes: the parts the whole parse gives.
 */
function read(events: string[], meteringOnly: boolean, whole: boolean): CanonicalStreamPart[] {
  const decoder = createOpenAIChatStreamDecoder({ meteringOnly });
  const text = events.map((e) => `data: ${e}${whole ? ' ' : ''}\n\n`).join('');
  return [...decoder.push(Buffer.from(text))];
}

describe('OpenAI stream reader: the chunks metering reads, without parsing them whole', () => {
  for (const meteringOnly of [true, false]) {
    const mode = meteringOnly ? 'metering-only' : 'translating';
    for (const [name, chunk] of Object.entries(CHUNKS)) {
      it(`${mode}: reads "${name}" exactly as the whole parse does, first in the stream and after the metadata`, () => {
        expect(read([chunk], meteringOnly, false)).toEqual(read([chunk], meteringOnly, true));
        expect(read([CHUNKS.role!, chunk], meteringOnly, false)).toEqual(read([CHUNKS.role!, chunk], meteringOnly, true));
      });
    }
  }

  it('does not parse whole the first, finish and usage chunks OpenAI writes (the usage object alone is parsed)', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const parts = read([CHUNKS.role!, CHUNKS.finish!, CHUNKS.usage!], true, false);
      expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'finish', 'usage']);
      expect(parse.mock.calls.map((c) => c[0])).toEqual([usage]);
    } finally {
      parse.mockRestore();
    }
  });

  it('reads the test upstream\'s streams (with and without usage) the same whole and by the fast path, however the bytes are cut', () => {
    for (const includeUsage of [true, false]) {
      const events = [...chatCompletionChunks({ content: 'Ünïcødé answer, "quoted" and long enough' }, 'gpt-4o-mini', includeUsage).map((c) => JSON.stringify(c)), '[DONE]'];
      const expected = read(events, true, true);
      expect(expected.map((p) => p.type)).toEqual(includeUsage ? ['response-metadata', 'finish', 'usage'] : ['response-metadata', 'finish']);
      const bytes = Buffer.from(events.map((e) => `data: ${e}\r\n\r\n`).join(''));
      for (const { size } of CHUNK_SPLITS) {
        const decoder = createOpenAIChatStreamDecoder({ meteringOnly: true });
        const parts: CanonicalStreamPart[] = [];
        for (let i = 0; i < bytes.length; i += size) for (const e of decoder.scanEvents!(bytes.subarray(i, Math.min(i + size, bytes.length))).read) parts.push(...e.parts);
        parts.push(...decoder.end());
        expect(parts).toEqual(expected);
      }
    }
  });

  it('reads a run of content deltas exactly as the whole parse does, whatever changes between them', () => {
    const delta = (content: string, id = 'chatcmpl-1', index = 0, finish = 'null'): string =>
      `{"id":"${id}","object":"chat.completion.chunk","created":1765000000,"model":"gpt-4o-mini","choices":[{"index":${index},"delta":{"content":${content}},"logprobs":null,"finish_reason":${finish}}],"usage":null}`;
    const events = [
      CHUNKS.role!,
      delta('"Hel"'),
      delta('"lo \\"x\\" é"'),
      delta('""'),
      delta('"other id"', 'chatcmpl-2'),
      delta('"other choice"', 'chatcmpl-2', 1),
      delta('"finished"', 'chatcmpl-2', 1, '"stop"'),
      delta('"bad \\q escape"', 'chatcmpl-2', 1),
    ];
    const fast = read(events, false, false);
    expect(fast).toEqual(read(events, false, true));
    expect(fast.filter((p) => p.type === 'text-delta').map((p) => (p.type === 'text-delta' ? `${p.choice}:${p.text}` : ''))).toEqual(['0:Hel', '0:lo "x" é', '0:other id', '1:other choice', '1:finished']);
    expect(fast.at(-1)).toMatchObject({ type: 'error' });
  });
});
