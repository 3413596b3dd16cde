import { RE2JS, RE2JSException } from 're2js';
import { InvalidMatchPattern, MAX_PROGRAM_SIZE } from './match-pattern.js';

/**
 * A model-name rewrite (002): an RE2 pattern matched against the whole requested name (re2js, linear
 * time whatever the pattern) and the name it becomes, where `$1` ... `$9` insert the pattern's groups
 * and `$$` is a dollar sign.
 */
export class NameRewrite {
  private constructor(
    readonly pattern: string,
    readonly target: string,
    private readonly re: RE2JS,
  ) {}

  /** @throws InvalidMatchPattern when RE2 refuses the pattern, it is too large, or the target names a group the pattern lacks. */
  static compile(pattern: string, target: string): NameRewrite {
    if (pattern.length === 0) throw new InvalidMatchPattern('the pattern is empty');
    let re: RE2JS;
    try {
      re = RE2JS.compile(pattern);
    } catch (err) {
      if (!(err instanceof RE2JSException)) throw err;
      throw new InvalidMatchPattern(err.message);
    }
    if (re.programSize() > MAX_PROGRAM_SIZE) {
      throw new InvalidMatchPattern(`the pattern is too large (${re.programSize()} instructions compiled, at most ${MAX_PROGRAM_SIZE})`);
    }
    for (const m of target.matchAll(/\$(\$|\d)/g)) {
      if (m[1] !== '$' && Number(m[1]) > re.groupCount()) throw new InvalidMatchPattern(`the target uses $${m[1]}, but the pattern has ${re.groupCount()} group(s)`);
    }
    return new NameRewrite(pattern, target, re);
  }

  /** The rewritten name when the pattern matches all of `name`, else undefined. */
  apply(name: string): string | undefined {
    const m = this.re.matcher(name);
    if (!m.matches()) return undefined;
    return this.target.replace(/\$(\$|\d)/g, (_all, g: string) => (g === '$' ? '$' : (m.group(Number(g)) ?? '')));
  }
}
