import { RE2JS, RE2JSException } from 're2js';

/** Raised with the reason RE2 gives for refusing a pattern; the reason is shown to the admin. */
export class InvalidMatchPattern extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'InvalidMatchPattern';
  }
}

/**
 * RE2 C++ refuses programs beyond its memory budget; re2js has no such budget, so we cap the
 * compiled program size ourselves. Matching cost grows with it (linear in input × program).
 */
export const MAX_PROGRAM_SIZE = 20_000;

/** Constructs a backtracking engine has and RE2 deliberately lacks, so the refusal can say why. */
const UNSUPPORTED: { test: RegExp; hint: string }[] = [
  { test: /\\[1-9]/, hint: 'backreferences (\\1) are not supported: RE2 matches in linear time and cannot have them' },
  { test: /\(\?<?[=!]/, hint: 'lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported: RE2 matches in linear time and cannot have them' },
];

/**
 * A model definition's match pattern, compiled by RE2 (re2js, pure JavaScript): matching takes time
 * linear in the model name, whatever the pattern, so an admin's pattern cannot hang the process.
 * Syntax is RE2's, which is what Langfuse's default table uses: inline flags such as a leading
 * `(?i)` make the match case-insensitive.
 */
export class MatchPattern {
  private constructor(
    readonly source: string,
    private readonly re: RE2JS,
  ) {}

  /** @throws InvalidMatchPattern when RE2 refuses the pattern or it is too large. */
  static compile(source: string): MatchPattern {
    if (source.length === 0) throw new InvalidMatchPattern('the pattern is empty; it would match every model');
    let re: RE2JS;
    try {
      re = RE2JS.compile(source);
    } catch (err) {
      if (!(err instanceof RE2JSException)) throw err;
      const hint = UNSUPPORTED.find((u) => u.test.test(source))?.hint;
      throw new InvalidMatchPattern(hint ? `${err.message} (${hint})` : err.message);
    }
    if (re.programSize() > MAX_PROGRAM_SIZE) {
      throw new InvalidMatchPattern(`the pattern is too large (${re.programSize()} instructions compiled, at most ${MAX_PROGRAM_SIZE})`);
    }
    return new MatchPattern(source, re);
  }

  /**
   * Whether the pattern occurs in the model name (search, not whole-string match, as Postgres `~`
   * and Langfuse do: patterns anchor themselves with ^ and $).
   */
  matches(modelName: string): boolean {
    return this.re.test(modelName);
  }
}
