import { InvalidMatchPattern } from './match-pattern.js';
import { NameRewrite } from './name-rewrite.js';

describe('NameRewrite', () => {
  it('rewrites a name the pattern matches whole, inserting its groups', () => {
    const rule = NameRewrite.compile('gpt-4o-(mini|nano)(-\\d+)?', 'team-$1');
    expect(rule.apply('gpt-4o-mini')).toBe('team-mini');
    expect(rule.apply('gpt-4o-nano-2024')).toBe('team-nano');
    expect(rule.apply('xgpt-4o-mini')).toBeUndefined(); // whole-name match, not search
    expect(NameRewrite.compile('a(b)?', 'x$1$$').apply('a')).toBe('x$');
  });

  it('refuses a target that names a group the pattern lacks, and what RE2 cannot run', () => {
    expect(() => NameRewrite.compile('gpt-(.*)', 'team-$2')).toThrow(InvalidMatchPattern);
    expect(() => NameRewrite.compile('(a)\\1', 'x')).toThrow(InvalidMatchPattern);
  });

});
