import { InvalidCatalogue, parseCatalogue, type CatalogueEntry } from './catalogue-file.js';

function entry(e: Partial<CatalogueEntry> = {}): CatalogueEntry {
  return {
    key: 'test:1',
    source: 'test',
    name: 'model-1',
    matchPattern: '^model-1$',
    tokenizer: 'o200k_base',
    effectiveFrom: '2025-01-01T00:00:00.000Z',
    tiers: [{ name: 'default', isDefault: true, priority: 0, conditions: [], prices: { input: '0.000001' } }],
    ...e,
  };
}

const file = (definitions: CatalogueEntry[]) => JSON.stringify({ description: '', generatedAt: '', sources: [], definitions, skipped: [] });

describe('parseCatalogue', () => {
  it('accepts a well-formed catalogue', () => {
    expect(parseCatalogue(file([entry()])).definitions).toHaveLength(1);
  });

  it.each([
    ['a float price', entry({ tiers: [{ name: 'd', isDefault: true, priority: 0, conditions: [], prices: { input: 1e-6 as unknown as string } }] }), /prices must map/],
    ['no default tier', entry({ tiers: [] }), /exactly one default tier/],
    ['a pattern RE2 refuses', entry({ matchPattern: '(a)\\1' }), /backreferences/],
    ['an unknown tokenizer', entry({ tokenizer: 'gpt2' as never }), /unknown tokenizer/],
    ['a malformed condition', entry({ tiers: [entry().tiers[0], { name: 'x', isDefault: false, priority: 1, conditions: [{ usageTypes: ['tokens' as never], operator: 'gt', value: 1 }], prices: { input: '1' } }] }), /condition is malformed/],
  ])('refuses %s as a whole', (_what, bad, message) => {
    expect(() => parseCatalogue(file([entry({ key: 'ok', name: 'ok' }), bad]))).toThrow(InvalidCatalogue);
    expect(() => parseCatalogue(file([bad]))).toThrow(message);
  });

  it('refuses two entries with one key or one name', () => {
    expect(() => parseCatalogue(file([entry(), entry({ name: 'other' })]))).toThrow(/key missing or used twice/);
    expect(() => parseCatalogue(file([entry(), entry({ key: 'other' })]))).toThrow(/name missing or used twice/);
  });
});
