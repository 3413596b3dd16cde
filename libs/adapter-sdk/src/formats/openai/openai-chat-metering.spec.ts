import type { ChatResponse } from '../../canonical.js';
import { chatMeteringFromOpenAI, COMPLETION_DETAIL_MEMBERS, PROMPT_DETAIL_MEMBERS, USAGE_MEMBERS } from './openai-chat-metering.js';
import { canonicalUsageFromOpenAI } from './openai-usage.js';
import { chatResponseFromOpenAI } from './openai-chat-response.js';

/** What metering reads of a decoded answer (generation-call.ts): the rest of a metering-only value is empty. */
function metered(r: ChatResponse) {
  return { id: r.id, model: r.model, usage: r.usage, choices: r.choices.map((c) => ({ index: c.index, finishReason: c.finishReason, rawFinishReason: c.rawFinishReason })) };
}

function whole(text: string): ChatResponse {
  const d = chatResponseFromOpenAI(Buffer.from(text));
  if ('error' in d) throw new Error(d.error.message);
  return d.value;
}

const fullUsage = {
  prompt_tokens: 1200,
  completion_tokens: 300,
  total_tokens: 1500,
  prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 7, cache_write_tokens: 100 },
  completion_tokens_details: { reasoning_tokens: 64, audio_tokens: 5, accepted_prediction_tokens: 3, rejected_prediction_tokens: 2 },
};

const answer = (extra: Record<string, unknown> = {}, message: Record<string, unknown> = { role: 'assistant', content: 'Hello!', refusal: null, annotations: [] }) =>
  JSON.stringify({
    id: 'chatcmpl-abc',
    object: 'chat.completion',
    created: 1733000000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message, logprobs: null, finish_reason: 'stop' }],
    usage: fullUsage,
    service_tier: 'default',
    system_fingerprint: 'fp_1',
    ...extra,
  });

describe('chatMeteringFromOpenAI', () => {
  /** Bodies the skim reads itself: it must find what the whole parse finds. */
  const read: Array<[string, string]> = [
    ['an OpenAI answer with every usage part (cached, cache-write, reasoning, audio, predictions)', answer()],
    [
      'fields in another order, usage first and id last, with whitespace everywhere',
      `{ "usage" : ${JSON.stringify(fullUsage, null, 2)} ,\n "choices" : [ { "finish_reason" : "length" , "message" : { "content" : "x" } , "index" : 0 } ] ,\r\n\t"model":"m","id" : "c-1" }  \n`,
    ],
    [
      'strings holding the markers it looks for, escaped quotes and non-ASCII text',
      answer({ model: 'm "model":"evil"' }, { role: 'assistant', content: 'say "usage":{"prompt_tokens":999} and "finish_reason":"length" \\" é 😀 \u2028', annotations: [{ type: 'x', usage: { prompt_tokens: 5 } }] }),
    ],
    ['a usage object nested in another field (not the answer\'s usage)', answer({ metadata: { usage: { prompt_tokens: 1, completion_tokens: 1 }, id: 'not-it', choices: 3 } })],
    [
      'two choices with their own finish reasons and indexes',
      JSON.stringify({
        id: 'c2',
        model: 'm',
        choices: [
          { index: 1, message: { role: 'assistant', content: 'b' }, finish_reason: 'length' },
          { index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: 'content_filter' },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 4 },
      }),
    ],
    ['escaped id and model', JSON.stringify({ id: 'a\\b"c\u00e9', model: 'm\n\u0001', choices: [{ message: {}, finish_reason: 'stop' }] })],
    ['a non-ASCII model and finish reason, unescaped', JSON.stringify({ id: 'ç-1', model: 'modèle-ü-😀', choices: [{ message: {}, finish_reason: 'arrêt' }] })],
    ['no usage, no id, a null finish reason and no index', JSON.stringify({ model: 'm', choices: [{ message: { content: 'hi' }, finish_reason: null }] })],
    ['an empty finish reason, an unknown one, and an explicit tool_calls null', JSON.stringify({ choices: [{ message: { tool_calls: null }, finish_reason: '' }, { message: {}, finish_reason: 'eos_token' }] })],
    ['a usage that is null, non-string id and model', JSON.stringify({ id: 7, model: null, choices: [], usage: null })],
    ['a usage with neither prompt nor completion tokens (not usage, as the whole parse says)', JSON.stringify({ choices: [], usage: { total_tokens: 5 } })],
    ['repeated id, model and usage: the last one counts, as in JSON.parse', '{"id":"first","model":"m1","usage":{"prompt_tokens":1},"choices":[{"message":{},"finish_reason":"stop","finish_reason":"length"}],"id":"last","model":2,"usage":{"completion_tokens":9}}'],
    [
      'usage counts that are not numbers, and details that are not objects',
      '{"choices":[],"usage":{"prompt_tokens":"10","completion_tokens":5,"prompt_tokens_details":null,"completion_tokens_details":{"reasoning_tokens":"3","audio_tokens":2,"x":{"reasoning_tokens":9}}}}',
    ],
    ['usage with only string counts (no usage, as the whole parse says)', '{"choices":[],"usage":{"prompt_tokens":"10","completion_tokens":null}}'],
    [
      'repeated usage members: the last one counts',
      '{"choices":[],"usage":{"prompt_tokens":10,"prompt_tokens":"x","completion_tokens":1,"completion_tokens_details":{"reasoning_tokens":1},"completion_tokens_details":5,"prompt_tokens_details":{"cached_tokens":4},"prompt_tokens_details":{"cached_tokens":2,"cached_tokens":3}}}',
    ],
    [
      'negative, fractional, exponent and huge counts',
      '{"choices":[],"usage":{"prompt_tokens":12345678901234567890,"completion_tokens":12.7,"prompt_tokens_details":{"cached_tokens":1e2,"audio_tokens":-4},"completion_tokens_details":{"reasoning_tokens":-0,"audio_tokens":2.5E1}}}',
    ],
    ['reasoning beside the content (vLLM)', answer({}, { role: 'assistant', content: 'x', reasoning_content: 'thinking "hard"' })],
    ['numbers in exponent form', JSON.stringify({ choices: [{ index: 0, message: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 1e3, completion_tokens: 2.5 } }).replace('1000', '1E3')],
  ];
  it.each(read)('reads %s as the whole parse does', (_name, text) => {
    const skimmed = chatMeteringFromOpenAI(Buffer.from(text));
    expect(skimmed).toBeDefined();
    expect(metered(skimmed!)).toEqual(metered(whole(text)));
    const d = chatResponseFromOpenAI(Buffer.from(text), { meteringOnly: true });
    expect('value' in d && metered(d.value)).toEqual(metered(whole(text)));
  });

  it('reads every part of the usage', () => {
    expect(chatMeteringFromOpenAI(Buffer.from(answer()))?.usage).toEqual({
      input: { total: 1200, noCache: 76, cacheRead: 1024, cacheWrite: 100 },
      output: { total: 300, text: 236, reasoning: 64 },
      extra: { input_audio: 7, output_audio: 5, accepted_prediction: 3, rejected_prediction: 2 },
    });
  });

  it('reads every usage member canonicalUsageFromOpenAI reads (a new one must be added to USAGE_MEMBERS and its kin)', () => {
    const read = new Set<string>();
    const spy = (path: string, target: Record<string, unknown>): Record<string, unknown> =>
      new Proxy(target, {
        get(t, key) {
          if (typeof key === 'string') read.add(`${path}${key}`);
          return t[key as string];
        },
      });
    const u = JSON.parse(answer()).usage as Record<string, Record<string, unknown>>;
    canonicalUsageFromOpenAI(spy('', { ...u, prompt_tokens_details: spy('prompt_tokens_details.', u.prompt_tokens_details), completion_tokens_details: spy('completion_tokens_details.', u.completion_tokens_details) }));
    const known = [...USAGE_MEMBERS, ...PROMPT_DETAIL_MEMBERS.map((k) => `prompt_tokens_details.${k}`), ...COMPLETION_DETAIL_MEMBERS.map((k) => `completion_tokens_details.${k}`)];
    expect([...read].filter((k) => !known.includes(k))).toEqual([]);
    expect(read.size).toBeGreaterThan(8);
  });

  it('reads from a view into a larger buffer', () => {
    const text = answer();
    const big = Buffer.from(`xx${text}yy`);
    const view = new Uint8Array(big.buffer, big.byteOffset + 2, Buffer.byteLength(text));
    expect(metered(chatMeteringFromOpenAI(view)!)).toEqual(metered(whole(text)));
  });

  /** Bodies the skim leaves to the whole parse: valid answers it is unsure of, and answers that are not. */
  const unsure: Array<[string, string]> = [
    ['tool calls (their shape is checked by the whole parse)', answer({}, { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] })],
    ['a key written with an escape', answer().replace('"model"', '"mod\\u0065l"')],
    ['a repeated choices key', '{"choices":[],"choices":[{"message":{}}]}'],
    ['a repeated message key', '{"choices":[{"message":1,"message":{}}]}'],
    ['deep nesting', `{"choices":[],"x":${'['.repeat(80)}${']'.repeat(80)}}`],
  ];
  it.each(unsure)('leaves %s to the whole parse, which then reads the same', (_name, text) => {
    expect(chatMeteringFromOpenAI(Buffer.from(text))).toBeUndefined();
    const d = chatResponseFromOpenAI(Buffer.from(text), { meteringOnly: true });
    expect(d).toEqual(chatResponseFromOpenAI(Buffer.from(text)));
  });

  const broken: Array<[string, string]> = [
    ['not JSON (a proxy\'s HTML page)', '<html>502 Bad Gateway</html>'],
    ['a truncated answer', answer().slice(0, -20)],
    ['an answer with something after it', `${answer()} {}`],
    ['a raw control character in the content', answer().replace('Hello!', 'Hel\u0001lo')],
    ['a JSON array', '[{"choices":[]}]'],
    ['no choices', JSON.stringify({ id: 'c', usage: { prompt_tokens: 1 } })],
    ['choices that are not an array', JSON.stringify({ choices: { 0: { message: {} } } })],
    ['a choice without a message', JSON.stringify({ choices: [{ finish_reason: 'stop' }] })],
    ['a message that is not an object', JSON.stringify({ choices: [{ message: 'hi' }] })],
    ['a choice that is not an object', JSON.stringify({ choices: ['x'] })],
    ['tool calls that are not function calls', answer({}, { role: 'assistant', tool_calls: [{ id: 'x', type: 'function' }] })],
    ['an empty body', ''],
  ];
  it.each(broken)('refuses %s with the whole parse\'s error', (_name, text) => {
    expect(chatMeteringFromOpenAI(Buffer.from(text))).toBeUndefined();
    const d = chatResponseFromOpenAI(Buffer.from(text), { meteringOnly: true });
    expect('error' in d).toBe(true);
    expect(d).toEqual(chatResponseFromOpenAI(Buffer.from(text)));
  });

  it('never reads an answer otherwise than the whole parse, over thousands of mutations of answers', () => {
    let a = 7;
    const next = (): number => {
      a = (a * 1103515245 + 12345) % 2147483648;
      return a / 2147483648;
    };
    const bases = [
      answer(),
      JSON.stringify({ id: 'c2', model: 'm', choices: [{ index: 1, message: { content: 'b' }, finish_reason: 'length' }, { index: 0, message: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 4 } }),
    ].map((t) => Buffer.from(t));
    const alphabet = Buffer.from('{}[]",:\\ 0123456789-.eEnul_tokens');
    let read = 0;
    for (let n = 0; n < 10000; n++) {
      let out = bases[n % bases.length]!;
      for (let e = 0; e < 1 + Math.floor(next() * 2); e++) {
        const at = Math.floor(next() * out.length);
        const c = Buffer.from([alphabet[Math.floor(next() * alphabet.length)]!]);
        const kind = next();
        out = kind < 0.4 ? Buffer.concat([out.subarray(0, at), c, out.subarray(at + 1)]) : kind < 0.7 ? Buffer.concat([out.subarray(0, at), c, out.subarray(at)]) : Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
      }
      const skimmed = chatMeteringFromOpenAI(out);
      const full = chatResponseFromOpenAI(out);
      if (skimmed === undefined) continue;
      read++;
      if ('error' in full) throw new Error(`skim read what the whole parse refuses: ${out.toString()}`);
      expect(metered(skimmed)).toEqual(metered(full.value));
    }
    expect(read).toBeGreaterThan(2000);
  });

  it('leaves the content unread: the choices of a metering-only reading are empty', () => {
    expect(chatMeteringFromOpenAI(Buffer.from(answer()))?.choices).toEqual([{ index: 0, content: [], finishReason: 'stop', rawFinishReason: 'stop' }]);
  });
});
