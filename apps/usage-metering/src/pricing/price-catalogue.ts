import { DEFAULT_TIER_NAME, USAGE_TYPES, type DefinitionSource, type PriceMap, type PriceTierView, type TokenizerId, type UsageType } from '#libs/contracts';
import { isDecimalString, parseDecimal } from '#libs/money';
import type { MatchPattern } from '#libs/match-pattern';
import type { PriceSheet } from './cost-calculator.js';
import { MatchPatternCache } from './match-pattern-cache.js';
import type { PriceTier } from './price-tier.js';

/**
 * What pricing needs of a model definition (ModelDefinitionView has all of it). A version without
 * tiers (an older registry's) is one default tier of its prices; no source means user, no priority 0.
 */
export interface PricingDefinition {
  id: string;
  organisationId: string;
  projectId: string | null;
  matchPattern: string;
  updatedAt: string;
  source?: DefinitionSource;
  priority?: number;
  /** How the model counts tokens: what a span's usage is estimated with when it carries only text. */
  tokenizer?: TokenizerId;
  priceVersions: { effectiveFrom: string; prices: PriceMap; tiers?: PriceTierView[] }[];
}

/** What a price is looked up for: whose call, which model, when it started. */
export interface PriceLookup {
  organisationId: string;
  projectId: string | null;
  model: string;
  startedAt: Date;
}

export type PriceResolution =
  | { found: true; definitionId: string; effectiveFrom: Date; tiers: readonly PriceTier[] }
  | { found: false; reason: 'no_matching_definition' | 'no_price_in_force'; definitionId: string | null };

interface PriceVersion {
  effectiveFrom: Date;
  tiers: PriceTier[];
}

interface CompiledDefinition {
  id: string;
  projectId: string | null;
  source: DefinitionSource;
  priority: number;
  tokenizer: TokenizerId | undefined;
  updatedAtMs: number;
  pattern: MatchPattern;
  /** Newest first. */
  versions: PriceVersion[];
}

/** Distinct (organisation, project, model) matches remembered per catalogue before starting over. */
const MATCH_MEMO_SIZE = 10_000;

/** Called for a definition (or one of its prices) that cannot be used; the rest still are. */
export type DefinitionProblemReporter = (definition: PricingDefinition, problem: string) => void;

/**
 * Every organisation's model definitions, ready to price spans: patterns compiled (once, via the
 * cache), prices parsed to decimals, versions sorted. Immutable; a reload builds a new one.
 */
export class PriceCatalogue {
  /** Matches already made (organisation, project, model -> definition): most spans repeat a few models. */
  private readonly matched = new Map<string, CompiledDefinition | null>();

  private constructor(
    private readonly byOrganisation: ReadonlyMap<string, readonly CompiledDefinition[]>,
    private readonly system: readonly CompiledDefinition[],
    readonly definitionCount: number,
  ) {}

  static build(definitions: readonly PricingDefinition[], patterns = new MatchPatternCache(), onProblem: DefinitionProblemReporter = () => undefined): PriceCatalogue {
    const byOrganisation = new Map<string, CompiledDefinition[]>();
    const system: CompiledDefinition[] = [];
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
        .map((v) => ({ effectiveFrom: new Date(v.effectiveFrom), tiers: tiersOf(d, v, onProblem) }))
        .filter((v) => {
          if (Number.isNaN(v.effectiveFrom.getTime())) onProblem(d, 'a price version has no valid effectiveFrom');
          return !Number.isNaN(v.effectiveFrom.getTime());
        })
        .sort((a, b) => b.effectiveFrom.getTime() - a.effectiveFrom.getTime());
      const source = d.source ?? 'user';
      const compiled: CompiledDefinition = { id: d.id, projectId: d.projectId, source, priority: d.priority ?? 0, tokenizer: d.tokenizer, updatedAtMs: Date.parse(d.updatedAt) || 0, pattern, versions };
      if (source === 'system') {
        system.push(compiled);
      } else {
        const list = byOrganisation.get(d.organisationId) ?? [];
        list.push(compiled);
        byOrganisation.set(d.organisationId, list);
      }
      count++;
    }
    patterns.retainOnly(new Set(definitions.map((d) => d.id)));
    return new PriceCatalogue(byOrganisation, system, count);
  }

  /**
   * The definition and price version for a call (README, "Which definition prices a call").
   *
   * Which definition, among those whose pattern occurs in the model name:
   * 1. User definitions before System ones (the built-in catalogue): any matching User definition
   *    overrides the catalogue, whatever its pattern.
   * 2. Among User definitions, the call's project's own before organisation-wide ones; other
   *    projects' and other organisations' never. System definitions are every organisation's.
   * 3. Within that level, the higher `priority`; then the most recently updated (the one an admin
   *    touched last is the one they meant); then the greater id, so the choice never depends on
   *    load order.
   *
   * Which version: the one with the latest effectiveFrom at or before the call's start. A level
   * that matches but has no version in force yet does not fall through to the next: the call is
   * unpriced (no_price_in_force), never priced by a definition the admin meant to replace.
   */
  resolve(lookup: PriceLookup): PriceResolution {
    const definition = this.match(lookup);
    if (!definition) return { found: false, reason: 'no_matching_definition', definitionId: null };
    const at = lookup.startedAt.getTime();
    const version = definition.versions.find((v) => v.effectiveFrom.getTime() <= at);
    if (!version) return { found: false, reason: 'no_price_in_force', definitionId: definition.id };
    return { found: true, definitionId: definition.id, effectiveFrom: version.effectiveFrom, tiers: version.tiers };
  }

  /** The tokenizer of the definition that prices the call, when one matches (whatever its versions). */
  tokenizerFor(lookup: PriceLookup): TokenizerId | undefined {
    return this.match(lookup)?.tokenizer;
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
      const best = bestMatch(candidates, lookup.model, (d) => d.projectId === projectId);
      if (best) return best;
    }
    return bestMatch(this.system, lookup.model, () => true);
  }
}

/** The winner among one level's matching definitions: higher priority, then most recently updated, then greater id. */
function bestMatch(candidates: readonly CompiledDefinition[], model: string, atLevel: (d: CompiledDefinition) => boolean): CompiledDefinition | undefined {
  let best: CompiledDefinition | undefined;
  for (const d of candidates) {
    if (!atLevel(d) || !d.pattern.matches(model)) continue;
    if (!best || outranks(d, best)) best = d;
  }
  return best;
}

function outranks(a: CompiledDefinition, b: CompiledDefinition): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.updatedAtMs !== b.updatedAtMs) return a.updatedAtMs > b.updatedAtMs;
  return a.id > b.id;
}

/** A version's tiers with parsed prices; a version without tiers is one default tier of its prices. */
function tiersOf(d: PricingDefinition, version: PricingDefinition['priceVersions'][number], onProblem: DefinitionProblemReporter): PriceTier[] {
  const tiers = version.tiers ?? [{ name: DEFAULT_TIER_NAME, isDefault: true, priority: 0, conditions: [], prices: version.prices }];
  return tiers.map((t) => ({ name: t.name, isDefault: t.isDefault, priority: t.priority, conditions: t.conditions, prices: parsePrices(d, t.prices, onProblem) }));
}

/** A price that is not a plain decimal string is left out (and reported), never guessed or read as a float. */
function parsePrices(d: PricingDefinition, prices: PriceMap, onProblem: DefinitionProblemReporter): PriceSheet {
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
