import { JsonSkim } from './json-skim.js';

/** Whether the skim reads `text` as one JSON document (whitespace around it allowed). */
function skims(bytes: Buffer): boolean {
  const s = new JsonSkim(bytes);
  if (s.next() === -1 || !s.value(64)) return false;
  return s.next() === -1;
}

function parses(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** A deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('JsonSkim', () => {
  const valid = [
    '{}',
    ' [ ] ',
    '{"a":1,"b":[true,false,null],"c":{"d":"e"}}',
    '{"s":"quote \\" backslash \\\\ slash \\/ \\b\\f\\n\\r\\t \\u00e9 \\uD83D\\uDE00 é 😀 \u007f"}',
    '[0,-0,1.5,-2e10,3E+2,4e-2,0.0e0,123456789012345678901234567890]',
    '\t\r\n{ "a" : [ 1 , { } , [ ] ] }\n',
    '"just a string"',
    '42',
  ];
  const invalid = [
    '',
    ' ',
    '{',
    '{"a":1,}',
    '[1,]',
    '{"a" 1}',
    '{a:1}',
    "{'a':1}",
    '[01]',
    '[1.]',
    '[.5]',
    '[-]',
    '[1e]',
    '[+1]',
    '[tru]',
    '[nul]',
    '[NaN]',
    '["\\x"]',
    '["\\u12g4"]',
    '["tab\there"]',
    '["line\nbreak"]',
    '["unterminated]',
    '{"a":1}{"b":2}',
    '{"a":1} x',
    '\ufeff{}',
    '{"a":1,"b"}',
    '[1 2]',
  ];
  it.each(valid)('reads valid JSON %j, as JSON.parse does', (text) => {
    expect(parses(Buffer.from(text))).toBe(true);
    expect(skims(Buffer.from(text))).toBe(true);
  });
  it.each(invalid)('refuses %j, as JSON.parse does', (text) => {
    expect(parses(Buffer.from(text))).toBe(false);
    expect(skims(Buffer.from(text))).toBe(false);
  });

  it('accepts what JSON.parse accepts and refuses what it refuses, over thousands of mutations of a chat completion', () => {
    const base = Buffer.from(
      JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1733000000,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hé "quoted" \\ \n end', refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: 12, completion_tokens: 3.5e1, total_tokens: -47, prompt_tokens_details: { cached_tokens: 0 } },
      }),
    );
    // Invalid UTF-8 (0xff, a lone 0xc3) too: JSON.parse reads it as U+FFFD, inside a string only.
    const alphabet = Buffer.concat([Buffer.from('{}[]",:\\/ \t\n0123456789-+.eEtrufalsn\u00e9abu\x01\x7f'), Buffer.from([0xff, 0xc3])]);
    const next = random(12);
    let accepted = 0;
    for (let n = 0; n < 20000; n++) {
      const bytes = Buffer.from(base);
      const edits = 1 + Math.floor(next() * 3);
      let out = bytes;
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * out.length);
        const kind = next();
        const c = Buffer.from([alphabet[Math.floor(next() * alphabet.length)]]);
        out = kind < 0.4 ? Buffer.concat([out.subarray(0, at), c, out.subarray(at + 1)]) : kind < 0.7 ? Buffer.concat([out.subarray(0, at), c, out.subarray(at)]) : Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
      }
      const p = parses(out);
      if (skims(out) !== p) throw new Error(`skim and JSON.parse disagree (JSON.parse: ${p}) on ${JSON.stringify(out.toString('utf8'))}`);
      if (p) accepted++;
    }
    // Both answers were met often enough for the comparison to mean something.
    expect(accepted).toBeGreaterThan(1000);
    expect(accepted).toBeLessThan(19000);
  });

  it('gives up on nesting deeper than it was allowed', () => {
    const deep = Buffer.from(`${'['.repeat(70)}${']'.repeat(70)}`);
    expect(parses(deep)).toBe(true);
    expect(skims(deep)).toBe(false);
  });

  it('reads a string\'s text with its escapes and its UTF-8', () => {
    const s = new JsonSkim(Buffer.from('"a\\"b\\u00e9 é"'));
    expect(s.text()).toBe('a"bé é');
    const plain = new JsonSkim(Buffer.from('"abc" '));
    expect(plain.text()).toBe('abc');
    expect(plain.pos).toBe(5);
  });
});
