import { InvalidMatchPattern, MatchPattern, MAX_PROGRAM_SIZE } from './match-pattern.js';

function refusal(source: string): string {
  try {
    MatchPattern.compile(source);
  } catch (err) {
    if (err instanceof InvalidMatchPattern) return err.reason;
    throw err;
  }
  throw new Error(`expected ${source} to be refused`);
}

describe('MatchPattern', () => {
  it('matches a model name the way Langfuse default patterns expect', () => {
    const p = MatchPattern.compile('(?i)^(openai/)?(gpt-4o)$');
    expect(['gpt-4o', 'openai/gpt-4o'].map((n) => p.matches(n))).toEqual([true, true]);
    expect(['gpt-4o-mini', 'azure/gpt-4o', 'gpt-4'].map((n) => p.matches(n))).toEqual([false, false, false]);
  });

  it('treats a leading (?i) as case-insensitive, and is case-sensitive without it', () => {
    expect(MatchPattern.compile('(?i)^gpt-4o$').matches('GPT-4O')).toBe(true);
    expect(MatchPattern.compile('^gpt-4o$').matches('GPT-4O')).toBe(false);
  });

  it('searches the name rather than requiring a whole-name match (anchors are the pattern’s job)', () => {
    expect(MatchPattern.compile('claude-3').matches('anthropic/claude-3-opus')).toBe(true);
  });

  it('refuses invalid syntax with RE2’s reason', () => {
    expect(refusal('gpt-(4o')).toMatch(/missing closing \)/);
    expect(refusal('[a-')).toMatch(/missing closing \]/);
  });

  it('refuses a backreference and says RE2 has none', () => {
    expect(refusal('^(gpt)-\\1$')).toMatch(/invalid escape sequence.*backreferences/);
  });

  it('refuses lookahead and lookbehind and says RE2 has none', () => {
    expect(refusal('^gpt-4(?!o)')).toMatch(/lookahead and lookbehind/);
    expect(refusal('(?=gpt)gpt-4o')).toMatch(/unsupported Perl syntax/);
    expect(refusal('(?<=openai/)gpt')).toMatch(/lookahead and lookbehind/);
  });

  it('refuses an empty pattern, which would match every model', () => {
    expect(refusal('')).toMatch(/empty/);
  });

  it(`refuses a pattern whose compiled program exceeds ${MAX_PROGRAM_SIZE} instructions`, () => {
    expect(refusal('.{0,1000}'.repeat(12))).toMatch(/too large/);
    expect(() => MatchPattern.compile('.{0,1000}'.repeat(3))).not.toThrow();
  });

  it('answers a catastrophic-backtracking pattern on 50k characters at once (linear time)', () => {
    // A backtracking engine (JavaScript's RegExp) takes exponential time here and would never return.
    const p = MatchPattern.compile('(a+)+$');
    const hostile = `${'a'.repeat(50_000)}!`;
    const started = performance.now();
    const matched = p.matches(hostile);
    const elapsedMs = performance.now() - started;
    expect(matched).toBe(false);
    expect(elapsedMs).toBeLessThan(2000);
  });
});
