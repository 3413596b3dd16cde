import type { MatchPattern } from './match-pattern.js';

/** One model definition as the winner rule sees it, carrying what its user needs (prices, a tokenizer). */
export interface MatchableDefinition<T> {
  id: string;
  /** Null for a System definition (the built-in catalogue: every organisation's). */
  organisationId: string | null;
  projectId: string | null;
  source: 'user' | 'system';
  priority: number;
  updatedAtMs: number;
  pattern: MatchPattern;
  value: T;
}

/** What every view of a definition carries for the winner rule (ModelDefinitionView has it all). */
export interface DefinitionRanking {
  id: string;
  organisationId: string | null;
  projectId: string | null;
  updatedAt: string;
  /** Absent = user (an older registry's definitions). */
  source?: 'user' | 'system';
  /** Absent = 0. */
  priority?: number;
}

/** A definition ready for DefinitionMatcher: its compiled pattern and what its reader needs of it. */
export function matchableDefinition<T>(d: DefinitionRanking, pattern: MatchPattern, value: T): MatchableDefinition<T> {
  return { id: d.id, organisationId: d.organisationId, projectId: d.projectId, source: d.source ?? 'user', priority: d.priority ?? 0, updatedAtMs: Date.parse(d.updatedAt) || 0, pattern, value };
}

/** Distinct (organisation, project, model) matches remembered before starting over: most calls repeat a few models. */
const MATCH_MEMO_SIZE = 10_000;

/**
 * Which model definition applies to a call (README, "Which definition prices a call"), for every
 * reader of definitions: metering's prices and the gateway's tokenizers follow one rule.
 *
 * Among the definitions whose pattern occurs in the model name:
 * 1. User definitions before System ones (the built-in catalogue): any matching User definition
 *    overrides the catalogue, whatever its pattern.
 * 2. Among User definitions, the call's project's own before organisation-wide ones; other
 *    projects' and other organisations' never. System definitions are every organisation's.
 * 3. Within that level, the higher `priority`; then the most recently updated (the one an admin
 *    touched last is the one they meant); then the greater id, so the choice never depends on
 *    load order.
 * Immutable once built; a reload builds a new one.
 */
export class DefinitionMatcher<T> {
  private readonly matched = new Map<string, MatchableDefinition<T> | null>();

  private constructor(
    private readonly byOrganisation: ReadonlyMap<string, readonly MatchableDefinition<T>[]>,
    private readonly system: readonly MatchableDefinition<T>[],
  ) {}

  static build<T>(definitions: Iterable<MatchableDefinition<T>>): DefinitionMatcher<T> {
    const byOrganisation = new Map<string, MatchableDefinition<T>[]>();
    const system: MatchableDefinition<T>[] = [];
    for (const d of definitions) {
      if (d.source === 'system' || d.organisationId === null) {
        system.push(d);
        continue;
      }
      const list = byOrganisation.get(d.organisationId) ?? [];
      list.push(d);
      byOrganisation.set(d.organisationId, list);
    }
    return new DefinitionMatcher(byOrganisation, system);
  }

  /** The winning definition for a model called by (organisation, project), or undefined when none matches. */
  match(organisationId: string, projectId: string | null, model: string): MatchableDefinition<T> | undefined {
    if (model === '') return undefined;
    const key = `${organisationId}\u0000${projectId === null ? '' : `p${projectId}`}\u0000${model}`;
    const known = this.matched.get(key);
    if (known !== undefined) return known ?? undefined;
    const found = this.matchUncached(organisationId, projectId, model);
    if (this.matched.size >= MATCH_MEMO_SIZE) this.matched.clear();
    this.matched.set(key, found ?? null);
    return found;
  }

  private matchUncached(organisationId: string, projectId: string | null, model: string): MatchableDefinition<T> | undefined {
    const candidates = this.byOrganisation.get(organisationId) ?? [];
    const levels = projectId === null ? [null] : [projectId, null];
    for (const level of levels) {
      const best = bestMatch(candidates, model, (d) => d.projectId === level);
      if (best) return best;
    }
    return bestMatch(this.system, model, () => true);
  }
}

/** The winner among one level's matching definitions: higher priority, then most recently updated, then greater id. */
function bestMatch<T>(candidates: readonly MatchableDefinition<T>[], model: string, atLevel: (d: MatchableDefinition<T>) => boolean): MatchableDefinition<T> | undefined {
  let best: MatchableDefinition<T> | undefined;
  for (const d of candidates) {
    if (!atLevel(d) || !d.pattern.matches(model)) continue;
    if (!best || outranks(d, best)) best = d;
  }
  return best;
}

function outranks<T>(a: MatchableDefinition<T>, b: MatchableDefinition<T>): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.updatedAtMs !== b.updatedAtMs) return a.updatedAtMs > b.updatedAtMs;
  return a.id > b.id;
}
