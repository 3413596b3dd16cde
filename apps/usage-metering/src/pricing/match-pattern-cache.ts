import { RE2JS, RE2JSException } from 're2js';

/** RE2 refused a definition's pattern; the definition then matches nothing. */
export class InvalidMatchPattern extends Error {
  constructor(readonly pattern: string, reason: string) {
    super(`match pattern ${JSON.stringify(pattern)} refused by RE2: ${reason}`);
    this.name = 'InvalidMatchPattern';
  }
}

/**
 * Compiled match patterns by definition: each pattern is compiled once and kept across reloads of
 * the definitions while the definition keeps the same pattern. RE2 (re2js, pure JavaScript) matches
 * in time linear in the model name, so an admin's pattern cannot hang the process.
 */
export class MatchPatternCache {
  private readonly compiled = new Map<string, { source: string; re: RE2JS }>();
  private compiles = 0;

  /** How many patterns have been compiled so far (tests use it to check the cache). */
  get compileCount(): number {
    return this.compiles;
  }

  get size(): number {
    return this.compiled.size;
  }

  /** @throws InvalidMatchPattern */
  get(definitionId: string, source: string): RE2JS {
    const hit = this.compiled.get(definitionId);
    if (hit && hit.source === source) return hit.re;
    this.compiled.delete(definitionId);
    // The registry refuses it too: an empty pattern would price every model at one definition's prices.
    if (source.length === 0) throw new InvalidMatchPattern(source, 'the pattern is empty');
    let re: RE2JS;
    try {
      this.compiles++;
      re = RE2JS.compile(source);
    } catch (err) {
      if (err instanceof RE2JSException) throw new InvalidMatchPattern(source, err.message);
      throw err;
    }
    this.compiled.set(definitionId, { source, re });
    return re;
  }

  /** Forgets the patterns of definitions that no longer exist. */
  retainOnly(definitionIds: ReadonlySet<string>): void {
    for (const id of this.compiled.keys()) if (!definitionIds.has(id)) this.compiled.delete(id);
  }
}
