import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import p50k from 'js-tiktoken/ranks/p50k_base';
import r50k from 'js-tiktoken/ranks/r50k_base';
import { BpeCounter } from './bpe-counter.js';

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SAMPLES = [
  '',
  'hello world',
  'The quick brown fox jumps over the lazy dog. '.repeat(20),
  "I'm sure they'll say we've done it; isn't it?",
  '日本語のテキストです。漢字とかなを含む。中文文本，한국어 텍스트.',
  '😀😃😄 emoji 👨‍👩‍👧‍👦 family 🏳️‍🌈 flags',
  'function f(x) {\n  return x * 2; // comment\n}\n\n\n   \t\r\n',
  '12345678901234567890 3.14159 1e10 0x1F -42',
  'Ünïcödé ÀÉÎÕÜ ąčęėįšųūž ΑΒΓ абв',
  'a special token spelled out: <|endoftext|> and <|endofprompt|>',
  'lone surrogates \ud800 and \udc00 become U+FFFD',
  'a'.repeat(63),
  'a'.repeat(64),
  'a'.repeat(65),
  'x'.repeat(800), // one long piece: merged through the heap
  'ab'.repeat(400),
  'Supercalifragilisticexpialidocious'.repeat(20),
  '!!!???...'.repeat(80),
  '     '.repeat(200) + 'end',
];

/** Text drawn from a mix of alphabets, digits, punctuation and whitespace, with long runs now and then. */
function randomText(next: () => number, length: number): string {
  const alphabets = ['abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '0123456789', ' \n\t', '.,;:!?\'"()[]{}<>/\\|-_=+*&^%$#@~`', 'éüñçøåß', 'дждзийклм', '漢字仮名交じり文', '😀🚀✨'];
  let out = '';
  while (out.length < length) {
    const alphabet = alphabets[Math.floor(next() * alphabets.length)]!;
    const chars = Array.from(alphabet);
    const run = next() < 0.05 ? 65 + Math.floor(next() * 100) : 1 + Math.floor(next() * 8);
    for (let i = 0; i < run; i++) out += chars[Math.floor(next() * chars.length)]!;
  }
  return out;
}

describe('BpeCounter', () => {
  for (const [name, data] of [
    ['o200k_base', o200k],
    ['cl100k_base', cl100k],
    ['p50k_base', p50k],
    ['r50k_base', r50k],
  ] as const) {
    describe(name, () => {
      const counter = new BpeCounter(data);
      const reference = new Tiktoken(data);
      // No special tokens: every text is ordinary text, as a chat message's content is.
      const expected = (text: string) => reference.encode(text, [], []).length;

      it.each(SAMPLES.map((s, i) => [i, s]))('counts sample %i as js-tiktoken does', (_i, text) => {
        expect(counter.count(text as string)).toBe(expected(text as string));
      });

      it('counts 60 random texts as js-tiktoken does', () => {
        const next = random(name.length);
        for (let i = 0; i < 60; i++) {
          const text = randomText(next, 50 + Math.floor(next() * 1500));
          expect({ i, tokens: counter.count(text) }).toEqual({ i, tokens: expected(text) });
        }
      });
    });
  }

  const counter = new BpeCounter(o200k);

  it('stops counting once past the limit, and counts in full when it fits', () => {
    const text = Array(1000).fill('hello').join(' '); // one token per word
    expect(counter.count(text)).toBe(1000);
    expect(counter.countUpTo(text, 5000)).toBe(1000);
    const stopped = counter.countUpTo(text, 10);
    expect(stopped).toBeGreaterThan(10);
    expect(stopped).toBeLessThan(1000);
  });

  it('counts a long run of one letter in linear-logarithmic time, not quadratic', () => {
    // Judged on how the time grows, not on a wall-clock bound a busy CI machine breaks: 32x the
    // input costs ~40x the time when n log n and ~1000x when quadratic. Best of three runs each, so
    // a GC pause or a preemption in one run does not decide.
    const timeOf = (n: number): number => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        expect(counter.count('a'.repeat(n))).toBeGreaterThan(n / 200);
        best = Math.min(best, performance.now() - started);
      }
      return best;
    };
    const small = timeOf(10_000);
    const large = timeOf(320_000);
    expect(large / small).toBeLessThan(250);
  });

  it('skips text its pre-tokenizer does not match, as a global search does, and counts the pieces after it', () => {
    // Every byte a token of its own, no merges: the count is the bytes of the matched pieces.
    const everyByte = Array.from({ length: 256 }, (_, b) => Buffer.from([b]).toString('base64')).join(' ');
    const lettersOnly = new BpeCounter({ pat_str: '[a-z]+|(?=#)', bpe_ranks: `! 0 ${everyByte}` });
    expect(lettersOnly.count('ab!!cd')).toBe(4);
    expect(lettersOnly.count('!!!')).toBe(0);
    expect(lettersOnly.count('x#é#yz')).toBe(3); // empty matches before '#' count nothing
  });

  it('refuses rank data it cannot read', () => {
    expect(() => new BpeCounter({ pat_str: '\\s+', bpe_ranks: '! zero IQ==' })).toThrow(/not a rank/);
    expect(() => new BpeCounter({ pat_str: '\\s+', bpe_ranks: '! 0 IQ==' })).toThrow(/no token for the byte 0/);
  });
});
