import { DEFAULT_TIER_NAME, USAGE_TYPES, type DefinitionSource, type PriceMap, type PriceTierView, type TokenizerId, type UsageType } from '#libs/contracts';
import { isDecimalString, parseDecimal } from '#libs/money';
import { DefinitionMatcher, matchableDefinition, MatchPatternCache, type MatchableDefinition, type MatchPattern } from '#libs/match-pattern';
import type { PriceSheet } from './cost-calculator.js';
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

/** What pricing reads of a matched definition: its price versions (newest first) and its tokenizer (for text-only spans). */
interface PricedDefinition {
  versions: PriceVersion[];
  tokenizer: TokenizerId | undefined;
}

type CompiledDefinition = MatchableDefinition<PricedDefinition>;

/** Called for a definition (or one of its prices) that cannot be used; the rest still are. */
export type DefinitionProblemReporter = (definition: PricingDefinition, problem: string) => void;

/**
 * Every organisation's model definitions, ready to price spans: patterns compiled (once, via the
 * cache), prices parsed to decimals, versions sorted. Immutable; a reload builds a new one.
 */
export class PriceCatalogue {
  private constructor(
    private readonly matcher: DefinitionMatcher<PricedDefinition>,
    readonly definitionCount: number,
  ) {}

  static build(definitions: readonly PricingDefinition[], patterns = new MatchPatternCache(), onProblem: DefinitionProblemReporter = () => undefined): PriceCatalogue {
    const compiledDefinitions: CompiledDefinition[] = [];
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
      compiledDefinitions.push(matchableDefinition(d, pattern, { versions, tokenizer: d.tokenizer }));
    }
    patterns.retainOnly(new Set(definitions.map((d) => d.id)));
    return new PriceCatalogue(DefinitionMatcher.build(compiledDefinitions), compiledDefinitions.length);
  }

  /**
   * The definition and price version for a call (README, "Which definition prices a call").
   *
   * Which definition: DefinitionMatcher's rule (#libs/match-pattern), the one the gateway's tokenizers follow too.
   *
   * Which version: the one with the latest effectiveFrom at or before the call's start. A level
   * that matches but has no version in force yet does not fall through to the next: the call is
   * unpriced (no_price_in_force), never priced by a definition the admin meant to replace.
   */
  resolve(lookup: PriceLookup): PriceResolution {
    const definition = this.matcher.match(lookup.organisationId, lookup.projectId, lookup.model);
    if (!definition) return { found: false, reason: 'no_matching_definition', definitionId: null };
    const at = lookup.startedAt.getTime();
    const version = definition.value.versions.find((v) => v.effectiveFrom.getTime() <= at);
    if (!version) return { found: false, reason: 'no_price_in_force', definitionId: definition.id };
    return { found: true, definitionId: definition.id, effectiveFrom: version.effectiveFrom, tiers: version.tiers };
  }

  /** The tokenizer of the definition that prices the call, when one matches (whatever its versions). */
  tokenizerFor(lookup: PriceLookup): TokenizerId | undefined {
    return this.matcher.match(lookup.organisationId, lookup.projectId, lookup.model)?.value.tokenizer;
  }
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
