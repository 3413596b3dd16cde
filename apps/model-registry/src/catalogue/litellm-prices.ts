import type { PriceMap, UsageType } from '#libs/contracts';
import { DEFAULT_TIER_NAME } from '#libs/contracts';
import type { CatalogueEntry } from './catalogue-file.js';
import { parseJsonExactNumbers } from './exact-json.js';
import type { ConversionResult } from './langfuse-prices.js';

/** LiteLLM's per-token cost fields by our usage type. */
const LITELLM_COST_FIELDS: Readonly<Partial<Record<UsageType, string>>> = {
  input: 'input_cost_per_token',
  output: 'output_cost_per_token',
  cache_read: 'cache_read_input_token_cost',
  cache_write: 'cache_creation_input_token_cost',
  reasoning: 'output_cost_per_reasoning_token',
  input_audio: 'input_cost_per_audio_token',
  output_audio: 'output_cost_per_audio_token',
};

interface LiteLlmEntry {
  litellm_provider?: string;
  mode?: string;
  [field: string]: unknown;
}

/**
 * Which LiteLLM entries fill what Langfuse's table lacks: Mistral's own API (`mistral/<model>`,
 * called as `<model>`) and Meta's Llama models as AWS Bedrock serves them (`meta.llama…`, also
 * with a cross-region prefix such as `us.`), since Meta sells no API of its own and Llama prices
 * are the host's.
 */
function selected(id: string, entry: LiteLlmEntry): { modelId: string; prefix: string } | null {
  if (entry.litellm_provider === 'mistral' && id.startsWith('mistral/')) return { modelId: id.slice('mistral/'.length), prefix: '(mistral/)?' };
  if ((entry.litellm_provider === 'bedrock' || entry.litellm_provider === 'bedrock_converse') && /^meta\.llama[^/]*$/.test(id)) {
    return { modelId: id, prefix: '((us|eu|apac)\\.)?' };
  }
  return null;
}

/** Converts the Mistral and Meta Llama entries of LiteLLM's model_prices_and_context_window.json. */
export function convertLiteLlmPrices(text: string, effectiveFrom: string, sourceId = 'litellm'): ConversionResult {
  const table = parseJsonExactNumbers(text) as Record<string, unknown>;
  const definitions: CatalogueEntry[] = [];
  const skipped: ConversionResult['skipped'] = [];
  for (const [id, value] of Object.entries(table)) {
    if (typeof value !== 'object' || value === null) continue;
    const entry = value as LiteLlmEntry;
    const pick = selected(id, entry);
    if (!pick) continue;
    const key = `${sourceId}:${id}`;
    if (entry.mode !== 'chat' && entry.mode !== 'embedding') {
      skipped.push({ key, reason: `mode ${String(entry.mode)} is not priced per token` });
      continue;
    }
    const prices: PriceMap = {};
    for (const [type, field] of Object.entries(LITELLM_COST_FIELDS) as [UsageType, string][]) {
      const price = entry[field];
      if (typeof price === 'string') prices[type] = price;
    }
    if (prices.input === undefined || (entry.mode === 'chat' && prices.output === undefined)) {
      skipped.push({ key, reason: 'no per-token input and output price' });
      continue;
    }
    definitions.push({
      key,
      source: sourceId,
      name: id,
      matchPattern: `(?i)^${pick.prefix}${escapeRe2(pick.modelId)}$`,
      // Mistral and Llama publish their tokenizers, but not as encodings js-tiktoken ships: counts are estimates.
      tokenizer: 'approximate',
      effectiveFrom,
      tiers: [{ name: DEFAULT_TIER_NAME, isDefault: true, priority: 0, conditions: [], prices }],
    });
  }
  return { definitions, skipped };
}

function escapeRe2(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
