import { USAGE_TYPES, type ModelDefinitionView, type UsageType } from '#libs/contracts';
import { isDecimalString, parseDecimal } from '#libs/money';
import type { MatchPattern } from '#libs/match-pattern';
import type { PriceSheet } from './cost-calculator.js';
import { MatchPatternCache } from './match-pattern-cache.js';

/** What a price is looked up for: whose call, which model, when it started. */
export interface PriceLookup {
  organisationId: string;
  projectId: string | null;
  model: string;
  startedAt: Date;
}

export type PriceResolution =
  | { found: true; definitionId: string; effectiveFrom: Date; prices: PriceSheet }
  | { found: false; reason: 'no_matching_definition' | 'no_price_in_force'; definitionId: string | null };

interface PriceVersion {
  effectiveFrom: Date;
  prices: PriceSheet;
}

interface CompiledDefinition {
  id: string;
  projectId: string | null;
  updatedAtMs: number;
  pattern: MatchPattern;
  /** Newest first. */
  versions: PriceVersion[];
}

/** Distinct (organisation, project, model) matches remembered per catalogue before starting over. */
const MATCH_MEMO_SIZE = 10_000;

/** Called for a definition (or one of its prices) that cannot be used; the rest still are. */
export type DefinitionProblemReporter = (definition: ModelDefinitionView, problem: string) => void;

/**
 * Every organisation's model definitions, ready to price spans: patterns compiled (once, via the
 * cache), prices parsed to decimals, versions sorted. Immutable; a reload builds a new one.
 */
export class PriceCatalogue {
  /** Matches already made (organisation, project, model -> definition): most spans repeat a few models. */
  private readonly matched = new Map<string, CompiledDefinition | null>();

  private constructor(
    private readonly byOrganisation: ReadonlyMap<string, readonly CompiledDefinition[]>,
    readonly definitionCount: number,
  ) {}

  static build(definitions: readonly ModelDefinitionView[], patterns = new MatchPatternCache(), onProblem: DefinitionProblemReporter = () => undefined): PriceCatalogue {
    const byOrganisation = new Map<string, CompiledDefinition[]>();
    let count = 0;
    for (const d of definitions) {
      let pattern: MatchPattern;
      try {
        pattern = patterns.get(d.id, d.matchPattern);
      } catch (err) {
        onProblem(d, (err as Error).message);
        continue;
      }
      const versions = d.priceVersions
        .map((v) => ({ effectiveFrom: new Date(v.effectiveFrom), prices: parsePrices(d, v.prices, onProblem) }))
        .filter((v) => {
          if (Number.isNaN(v.effectiveFrom.getTime())) onProblem(d, 'a price version has no valid effectiveFrom');
          return !Number.isNaN(v.effectiveFrom.getTime());
        })
        .sort((a, b) => b.effectiveFrom.getTime() - a.effectiveFrom.getTime());
      const list = byOrganisation.get(d.organisationId) ?? [];
      list.push({ id: d.id, projectId: d.projectId, updatedAtMs: Date.parse(d.updatedAt) || 0, pattern, versions });
      byOrganisation.set(d.organisationId, list);
      count++;
    }
    patterns.retainOnly(new Set(definitions.map((d) => d.id)));
    return new PriceCatalogue(byOrganisation, count);
  }

  /**
   * The definition and price version for a call.
   *
   * Which definition: only the call's organisation's definitions whose pattern occurs in the model
   * name. The call's project's own definitions come first; organisation-wide ones are used only when
   * none of those match; other projects' definitions never. When several match at the chosen level,
   * the most recently updated wins (the one an admin touched last is the one they meant; ties go to
   * the greater id so the choice does not depend on load order).
   *
   * Which version: the one with the latest effectiveFrom at or before the call's start.
   */
  resolve(lookup: PriceLookup): PriceResolution {
    const definition = this.match(lookup);
    if (!definition) return { found: false, reason: 'no_matching_definition', definitionId: null };
    const at = lookup.startedAt.getTime();
    const version = definition.versions.find((v) => v.effectiveFrom.getTime() <= at);
    if (!version) return { found: false, reason: 'no_price_in_force', definitionId: definition.id };
    return { found: true, definitionId: definition.id, effectiveFrom: version.effectiveFrom, prices: version.prices };
  }

  private match(lookup: PriceLookup): CompiledDefinition | undefined {
    if (lookup.model === '') return undefined;
    const key = `${lookup.organisationId}\u0000${lookup.projectId === null ? '' : `p${lookup.projectId}`}\u0000${lookup.model}`;
    const known = this.matched.get(key);
    if (known !== undefined) return known ?? undefined;
    const found = this.matchUncached(lookup);
    if (this.matched.size >= MATCH_MEMO_SIZE) this.matched.clear();
    this.matched.set(key, found ?? null);
    return found;
  }

  private matchUncached(lookup: PriceLookup): CompiledDefinition | undefined {
    const candidates = this.byOrganisation.get(lookup.organisationId) ?? [];
    const levels = lookup.projectId === null ? [null] : [lookup.projectId, null];
    for (const projectId of levels) {
      let best: CompiledDefinition | undefined;
      for (const d of candidates) {
        if (d.projectId !== projectId || !d.pattern.matches(lookup.model)) continue;
        if (!best || d.updatedAtMs > best.updatedAtMs || (d.updatedAtMs === best.updatedAtMs && d.id > best.id)) best = d;
      }
      if (best) return best;
    }
    return undefined;
  }
}

/** A price that is not a plain decimal string is left out (and reported), never guessed or read as a float. */
function parsePrices(d: ModelDefinitionView, prices: Partial<Record<UsageType, string>>, onProblem: DefinitionProblemReporter): PriceSheet {
  const sheet: PriceSheet = {};
  for (const [type, text] of Object.entries(prices)) {
    if (!(USAGE_TYPES as readonly string[]).includes(type)) continue;
    if (!isDecimalString(text) || text.startsWith('-')) {
      onProblem(d, `price for ${type} is not a non-negative decimal string: ${JSON.stringify(text)}`);
      continue;
    }
    sheet[type as UsageType] = parseDecimal(text);
  }
  return sheet;
}
