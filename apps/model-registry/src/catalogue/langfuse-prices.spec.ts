import { readFileSync } from 'node:fs';
import { convertLangfusePrices } from './langfuse-prices.js';
import { parseCatalogue } from './catalogue-file.js';

function model(m: Record<string, unknown>): Record<string, unknown> {
  return { id: 'm1', modelName: 'model-1', matchPattern: '(?i)^(openai/)?(model-1)$', createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2025-02-03T00:00:00.000Z', ...m };
}

function tier(t: Record<string, unknown>): Record<string, unknown> {
  return { id: 't', name: 'Standard', isDefault: true, priority: 0, conditions: [], ...t };
}

/** Written as Langfuse writes it: JSON numbers in exponent notation, which a float would round. */
const TABLE = `[${JSON.stringify(
  model({
    tokenizerId: 'openai',
    tokenizerConfig: { tokenizerModel: 'gpt-4o' },
    pricingTiers: [
      tier({ prices: { input: 'INPUT', input_cached_tokens: 'CACHED', input_cache_read: 'CACHED', output: 'OUTPUT', output_reasoning_tokens: 'OUTPUT', grounding_queries: 'OUTPUT' } }),
      tier({ id: 't2', name: 'Large Context', isDefault: false, priority: 1, conditions: [{ usageDetailPattern: '(input|prompt|cached)', operator: 'gt', value: 200000, caseSensitive: false }], prices: { input: 'INPUT' } }),
      tier({ id: 't3', name: 'Fast mode', isDefault: false, priority: 2, conditions: [{ source: 'model_parameters', key: 'service_tier', operator: 'in', values: ['priority'] }], prices: { input: 'INPUT' } }),
    ],
  }),
)}]`
  .replaceAll('"INPUT"', '7.5e-08')
  .replaceAll('"CACHED"', '3.0000000000000003e-08')
  .replaceAll('"OUTPUT"', '1e-05');

describe('convertLangfusePrices', () => {
  it('takes each price as the exact decimal written, never through a float', () => {
    const [entry] = convertLangfusePrices(TABLE).definitions;
    expect(entry.tiers[0].prices).toEqual({ input: '0.000000075', cache_read: '0.000000030000000000000003', output: '0.00001', reasoning: '0.00001' });
  });

  it('maps a usage-detail condition onto the usage types whose Langfuse names it matches', () => {
    const [entry] = convertLangfusePrices(TABLE).definitions;
    expect(entry.tiers[1]).toEqual({
      name: 'Large Context',
      isDefault: false,
      priority: 1,
      conditions: [{ usageTypes: ['input', 'cache_read', 'cache_write', 'input_audio', 'input_image'], operator: 'gt', value: 200_000 }],
      prices: { input: '0.000000075' },
    });
  });

  it('leaves out a tier on request attributes and prices with no usage type, and says so', () => {
    const [entry] = convertLangfusePrices(TABLE).definitions;
    expect(entry.tiers.map((t) => t.name)).toEqual(['Standard', 'Large Context']);
    expect(entry.notes).toEqual([expect.stringContaining('grounding_queries'), expect.stringContaining('"Fast mode" left out: it depends on request attributes (service_tier in priority)')]);
  });

  it('keeps key, name, pattern and date, and picks the OpenAI encoding or the approximation', () => {
    const [entry] = convertLangfusePrices(TABLE).definitions;
    expect(entry).toMatchObject({ key: 'langfuse:m1', name: 'model-1', matchPattern: '(?i)^(openai/)?(model-1)$', effectiveFrom: '2025-02-03T00:00:00.000Z', tokenizer: 'o200k_base' });
    const claude = convertLangfusePrices(JSON.stringify([model({ modelName: 'claude-x', tokenizerId: 'claude', pricingTiers: [tier({ prices: { input: 1 } })] })]));
    expect(claude.definitions[0].tokenizer).toBe('approximate');
  });

  it('skips a model whose pattern RE2 refuses', () => {
    const result = convertLangfusePrices(JSON.stringify([model({ matchPattern: '^gpt-4(?!o)', pricingTiers: [tier({ prices: { input: 1 } })] })]));
    expect(result.definitions).toEqual([]);
    expect(result.skipped).toEqual([{ key: 'langfuse:m1', reason: expect.stringContaining('lookahead') }]);
  });

  it('converts the whole published table into a catalogue that checks', () => {
    const result = convertLangfusePrices(readFileSync('/work/shared/reference/langfuse-model-prices/default-model-prices.json', 'utf8'));
    expect(result.definitions.length).toBeGreaterThan(150);
    const file = parseCatalogue(JSON.stringify({ description: '', generatedAt: '', sources: [], definitions: result.definitions, skipped: result.skipped }));
    expect(file.definitions.find((d) => d.name === 'gpt-4o')?.tiers[0].prices).toMatchObject({ input: '0.0000025', output: '0.00001', cache_read: '0.00000125' });
  });
});

describe('the catalogue data file in the repository', () => {
  it('is valid, names its sources with commit, date and sha256, and covers OpenAI, Anthropic, Google, Mistral and Meta', async () => {
    const { defaultCataloguePath, readCatalogueFile } = await import('./catalogue-file.js');
    const file = readCatalogueFile(defaultCataloguePath());
    expect(file.sources.map((s) => s.id)).toEqual(['langfuse', 'litellm']);
    for (const s of file.sources) expect(s).toMatchObject({ commit: expect.stringMatching(/^[0-9a-f]{40}$/), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), retrieved: expect.any(String) });
    const names = file.definitions.map((d) => d.name);
    for (const family of [/^gpt-4o$/, /^claude-/, /^gemini-/, /mistral-large/, /meta\.llama/]) expect(names.some((n) => family.test(n))).toBe(true);
  });
});
