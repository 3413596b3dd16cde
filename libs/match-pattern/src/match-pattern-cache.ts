import { MatchPattern } from './match-pattern.js';

/**
 * Compiled match patterns by definition: each pattern is compiled once and kept across reloads of
 * the definitions while the definition keeps the same pattern. RE2 (re2js, pure JavaScript) matches
 * in time linear in the model name, so an admin's pattern cannot hang the process.
 */
export class MatchPatternCache {
  private readonly compiled = new Map<string, MatchPattern>();
  private compiles = 0;

  /** How many patterns have been compiled so far (tests use it to check the cache). */
  get compileCount(): number {
    return this.compiles;
  }

  get size(): number {
    return this.compiled.size;
  }

  /** The same rules as the registry's (MatchPattern): a pattern it refused is refused here too.  Throws InvalidMatchPattern. */
  get(definitionId: string, source: string): MatchPattern {
    const hit = this.compiled.get(definitionId);
    if (hit && hit.source === source) return hit;
    this.compiled.delete(definitionId);
    this.compiles++;
    const pattern = MatchPattern.compile(source);
    this.compiled.set(definitionId, pattern);
    return pattern;
  }

  /** Forgets the patterns of definitions that no longer exist. */
  retainOnly(definitionIds: ReadonlySet<string>): void {
    for (const id of this.compiled.keys()) if (!definitionIds.has(id)) this.compiled.delete(id);
  }
}
