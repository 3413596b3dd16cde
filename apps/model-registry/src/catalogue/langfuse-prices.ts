import { MatchPattern } from '#libs/match-pattern';
import { USAGE_TYPES, type PriceMap, type TierConditionView, type TokenizerId, type UsageType } from '#libs/contracts';
import type { CatalogueEntry, CatalogueTier } from './catalogue-file.js';
import { parseJsonExactNumbers } from './exact-json.js';

/**
 * Langfuse's usage keys (default-model-prices.json) by our usage type. The first key of a type that
 * a tier prices gives the price; the others must agree (they are the same price under the names
 * different SDKs report). A condition's usageDetailPattern is matched against these names, so
 * "(input)" covers our input, cache_read and cache_write (Langfuse's input_cached_tokens,
 * input_cache_creation, ...), as Langfuse sums them.
 */
export const LANGFUSE_USAGE_KEYS: Readonly<Record<UsageType, readonly string[]>> = {
  input: ['input', 'input_tokens', 'input_text', 'input_text_tokens', 'prompt_token_count', 'promptTokenCount', 'input_modality_1'],
  output: ['output', 'output_tokens', 'output_text', 'output_text_tokens', 'candidates_token_count', 'candidatesTokenCount', 'output_modality_1'],
  cache_read: ['input_cache_read', 'input_cached_tokens', 'cache_read_input_tokens', 'cached_content_token_count', 'input_cached_text_tokens'],
  cache_write: ['input_cache_creation', 'input_cache_creation_5m', 'cache_creation_input_tokens', 'cache_write_tokens'],
  reasoning: ['output_reasoning', 'output_reasoning_tokens', 'reasoning_tokens', 'thoughts_token_count', 'thoughtsTokenCount'],
  input_audio: ['input_audio', 'input_audio_tokens'],
  output_audio: ['output_audio', 'output_audio_tokens'],
  input_image: ['input_image'],
  output_image: ['output_image'],
};

interface LangfuseCondition {
  usageDetailPattern?: string;
  source?: string;
  key?: string;
  operator: string;
  value?: string;
  values?: string[];
  caseSensitive?: boolean;
}

interface LangfuseTier {
  id: string;
  name: string;
  isDefault: boolean;
  priority: string;
  conditions: LangfuseCondition[];
  prices: Record<string, string>;
}

interface LangfuseModel {
  id: string;
  modelName: string;
  matchPattern: string;
  updatedAt: string;
  tokenizerId?: string;
  tokenizerConfig?: { tokenizerModel?: string };
  pricingTiers: LangfuseTier[];
}

export interface ConversionResult {
  definitions: CatalogueEntry[];
  skipped: { key: string; reason: string }[];
}

/** Converts Langfuse's default model price table (see /work/shared/reference/langfuse-model-prices/README.md for its shape). */
export function convertLangfusePrices(text: string, sourceId = 'langfuse'): ConversionResult {
  const models = parseJsonExactNumbers(text) as LangfuseModel[];
  if (!Array.isArray(models)) throw new Error('a Langfuse price table is a JSON array of models');
  const definitions: CatalogueEntry[] = [];
  const skipped: ConversionResult['skipped'] = [];
  for (const model of models) {
    const key = `${sourceId}:${model.id}`;
    try {
      MatchPattern.compile(model.matchPattern);
    } catch (err) {
      skipped.push({ key, reason: `match pattern refused by RE2: ${(err as Error).message}` });
      continue;
    }
    const notes: string[] = [];
    const tiers: CatalogueTier[] = [];
    for (const tier of [...model.pricingTiers].sort((a, b) => Number(a.priority) - Number(b.priority))) {
      const attributeConditions = tier.conditions.filter((c) => c.usageDetailPattern === undefined);
      if (attributeConditions.length > 0) {
        notes.push(`tier "${tier.name}" left out: it depends on request attributes (${attributeConditions.map((c) => `${c.key} ${c.operator} ${(c.values ?? []).join('/')}`).join(', ')}), which usage records do not carry yet`);
        continue;
      }
      const { prices, dropped } = pricesOf(tier.prices);
      if (dropped.length > 0) notes.push(`tier "${tier.name}": prices without a usage type here left out: ${dropped.join(', ')}`);
      if (Object.keys(prices).length === 0) {
        notes.push(`tier "${tier.name}" left out: no price of a known usage type`);
        continue;
      }
      tiers.push({
        name: tier.name,
        isDefault: tier.isDefault,
        priority: tier.isDefault ? 0 : Number(tier.priority),
        conditions: tier.conditions.map((c) => conditionOf(c)),
        prices,
      });
    }
    if (!tiers.some((t) => t.isDefault)) {
      skipped.push({ key, reason: 'no default tier with prices of known usage types' });
      continue;
    }
    definitions.push({
      key,
      source: sourceId,
      name: model.modelName,
      matchPattern: model.matchPattern,
      tokenizer: tokenizerOf(model),
      effectiveFrom: new Date(model.updatedAt).toISOString(),
      tiers,
      ...(notes.length > 0 ? { notes } : {}),
    });
  }
  return { definitions, skipped };
}

/** Our prices from Langfuse's: the first alias of each type; `total` (older models priced per token whatever its kind) is input and output alike. */
function pricesOf(source: Record<string, string>): { prices: PriceMap; dropped: string[] } {
  const prices: PriceMap = {};
  const used = new Set<string>();
  for (const type of USAGE_TYPES) {
    for (const alias of LANGFUSE_USAGE_KEYS[type]) {
      if (source[alias] === undefined) continue;
      used.add(alias);
      prices[type] ??= source[alias];
    }
  }
  if (source.total !== undefined && prices.input === undefined && prices.output === undefined) {
    prices.input = source.total;
    prices.output = source.total;
    used.add('total');
  }
  return { prices, dropped: Object.keys(source).filter((k) => !used.has(k)) };
}

function conditionOf(c: LangfuseCondition): TierConditionView {
  const pattern = MatchPattern.compile(c.caseSensitive ? c.usageDetailPattern! : `(?i)${c.usageDetailPattern!}`);
  const usageTypes = USAGE_TYPES.filter((type) => [type, ...LANGFUSE_USAGE_KEYS[type]].some((name) => pattern.matches(name)));
  const operator = c.operator as TierConditionView['operator'];
  return { usageTypes, operator, value: Number(c.value) };
}

/** OpenAI's public encodings where Langfuse names an OpenAI tokenizer; otherwise the approximation, which says so. */
function tokenizerOf(model: LangfuseModel): TokenizerId {
  const name = (model.tokenizerConfig?.tokenizerModel ?? model.modelName).toLowerCase();
  const openAiFamily = model.tokenizerId === 'openai' || /^(openai\/)?(gpt-|o\d|chatgpt|text-embedding|text-|babbage|davinci|ft:)/.test(model.modelName.toLowerCase());
  if (!openAiFamily) return 'approximate';
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d|chatgpt)/.test(name)) return 'o200k_base';
  if (/^(text-davinci-00[23]|code-)/.test(name)) return 'p50k_base';
  if (/^(text-(ada|babbage|curie|davinci)-001)/.test(name)) return 'r50k_base';
  return 'cl100k_base';
}
