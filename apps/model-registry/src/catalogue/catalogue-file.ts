import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPriceMap, TIER_OPERATORS, TOKENIZERS, USAGE_TYPES, type PriceMap, type TierConditionView, type TokenizerId } from '#libs/contracts';
import { MatchPattern } from '#libs/match-pattern';

/** Where a catalogue's prices were taken from, and when: kept in the data file beside the definitions. */
export interface CatalogueSource {
  id: string;
  name: string;
  /** The file's address in its repository, pinned to a commit. */
  url: string;
  commit: string;
  /** When the file was last changed upstream (ISO date). */
  changedAt: string;
  /** When we took it. */
  retrieved: string;
  sha256: string;
  license: string;
}

export interface CatalogueTier {
  name: string;
  isDefault: boolean;
  priority: number;
  conditions: TierConditionView[];
  prices: PriceMap;
}

/** One System definition of the built-in catalogue. */
export interface CatalogueEntry {
  /** Stable across updates: `<source id>:<the source's own id>`. */
  key: string;
  source: string;
  name: string;
  matchPattern: string;
  tokenizer: TokenizerId;
  /** When these prices are known to apply from (the source's date for the entry). */
  effectiveFrom: string;
  tiers: CatalogueTier[];
  /** What the conversion left out or chose, in words (e.g. a tier on request attributes). */
  notes?: string[];
}

export interface CatalogueFile {
  description: string;
  generatedAt: string;
  sources: CatalogueSource[];
  definitions: CatalogueEntry[];
  /** Source entries not converted, with the reason. */
  skipped: { key: string; reason: string }[];
}

/** The data file in the repository: apps/model-registry/catalogue/system-model-definitions.json. */
export const CATALOGUE_RELATIVE_PATH = path.join('apps', 'model-registry', 'catalogue', 'system-model-definitions.json');

/** The repository's data file, found from this module whether it runs from src (tests) or dist. */
export function defaultCataloguePath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, CATALOGUE_RELATIVE_PATH);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`the built-in model catalogue ${CATALOGUE_RELATIVE_PATH} was not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export class InvalidCatalogue extends Error {
  constructor(readonly problems: string[]) {
    super(`the model catalogue is invalid: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`);
    this.name = 'InvalidCatalogue';
  }
}

export function readCatalogueFile(file: string): CatalogueFile {
  return parseCatalogue(readFileSync(file, 'utf8'));
}

/**
 * Reads and checks a catalogue: every entry has a unique key and name, a pattern RE2 compiles, a
 * known tokenizer, an effective date, exactly one default tier, and prices as decimal strings.
 * A bad file stops the load as a whole: half a catalogue would price some calls and not others.
 */
export function parseCatalogue(text: string): CatalogueFile {
  const file = JSON.parse(text) as CatalogueFile;
  const problems: string[] = [];
  if (!Array.isArray(file.definitions) || !Array.isArray(file.sources)) throw new InvalidCatalogue(['definitions and sources must be arrays']);
  const keys = new Set<string>();
  const names = new Set<string>();
  for (const e of file.definitions) {
    const at = `definition ${JSON.stringify(e.key)}`;
    if (typeof e.key !== 'string' || e.key === '' || keys.has(e.key)) problems.push(`${at}: key missing or used twice`);
    if (typeof e.name !== 'string' || e.name === '' || names.has(e.name)) problems.push(`${at}: name missing or used twice`);
    keys.add(e.key);
    names.add(e.name);
    try {
      MatchPattern.compile(e.matchPattern);
    } catch (err) {
      problems.push(`${at}: ${(err as Error).message}`);
    }
    if (!(TOKENIZERS as readonly string[]).includes(e.tokenizer)) problems.push(`${at}: unknown tokenizer ${e.tokenizer}`);
    if (Number.isNaN(Date.parse(e.effectiveFrom))) problems.push(`${at}: effectiveFrom is not a date`);
    if (!Array.isArray(e.tiers) || e.tiers.filter((t) => t.isDefault).length !== 1) problems.push(`${at}: needs exactly one default tier`);
    for (const t of e.tiers ?? []) {
      if (!isPriceMap(t.prices)) problems.push(`${at}, tier ${t.name}: prices must map usage types to decimal strings`);
      for (const c of t.conditions ?? []) {
        const ok =
          Array.isArray(c.usageTypes) &&
          c.usageTypes.length > 0 &&
          c.usageTypes.every((u) => (USAGE_TYPES as readonly string[]).includes(u)) &&
          (TIER_OPERATORS as readonly string[]).includes(c.operator) &&
          Number.isSafeInteger(c.value);
        if (!ok) problems.push(`${at}, tier ${t.name}: a condition is malformed`);
      }
    }
  }
  if (problems.length > 0) throw new InvalidCatalogue(problems);
  return file;
}
