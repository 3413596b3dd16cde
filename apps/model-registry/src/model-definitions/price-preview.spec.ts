import type { PriceVersionView } from '#libs/contracts';
import { previewOf, versionInForce } from './price-preview.js';

function version(v: Partial<PriceVersionView> = {}): PriceVersionView {
  return {
    effectiveFrom: '2025-01-01T00:00:00.000Z',
    prices: { input: '0.000000075', output: '0.0000003' },
    tiers: [{ name: 'default', isDefault: true, priority: 0, conditions: [], prices: { input: '0.000000075', output: '0.0000003' } }],
    ...v,
  };
}

describe('price preview', () => {
  it('gives 0.000000075 per unit as exactly 0.000075 per 1K and 0.075 per 1M', () => {
    const preview = previewOf('mdef_1', version());
    expect(preview.tiers[0].usageTypes.find((u) => u.usageType === 'input')).toEqual({
      usageType: 'input',
      perUnit: '0.000000075',
      per1K: '0.000075',
      per1M: '0.075',
      inheritedFrom: null,
    });
  });

  it('keeps every digit a float would lose, down to the 30th fraction digit', () => {
    const preview = previewOf(
      'mdef_1',
      version({ tiers: [{ name: 'default', isDefault: true, priority: 0, conditions: [], prices: { input: '0.000000000000000000000000000003', output: '0.0000001234567890123456789' } }] }),
    );
    const byType = new Map(preview.tiers[0].usageTypes.map((u) => [u.usageType, u]));
    expect(byType.get('input')).toMatchObject({ per1K: '0.000000000000000000000000003', per1M: '0.000000000000000000000003' });
    expect(byType.get('output')).toMatchObject({ per1K: '0.0001234567890123456789', per1M: '0.1234567890123456789' });
  });

  it('lists a type without its own price at its parent’s, saying so', () => {
    const preview = previewOf('mdef_1', version());
    expect(preview.tiers[0].usageTypes.map((u) => [u.usageType, u.inheritedFrom])).toEqual([
      ['input', null],
      ['output', null],
      ['cache_read', 'input'],
      ['cache_write', 'input'],
      ['reasoning', 'output'],
      ['input_audio', 'input'],
      ['output_audio', 'output'],
      ['input_image', 'input'],
      ['output_image', 'output'],
    ]);
    expect(preview.tiers[0].usageTypes.find((u) => u.usageType === 'cache_read')?.per1M).toBe('0.075');
  });

  it('previews every tier with its conditions', () => {
    const long = { name: 'long context', isDefault: false, priority: 1, conditions: [{ usageTypes: ['input' as const], operator: 'gt' as const, value: 200_000 }], prices: { input: '0.0000025' } };
    const preview = previewOf('mdef_1', version({ tiers: [version().tiers[0], long] }));
    expect(preview.tiers.map((t) => [t.name, t.conditions.length, t.usageTypes.find((u) => u.usageType === 'input')?.per1M])).toEqual([
      ['default', 0, '0.075'],
      ['long context', 1, '2.5'],
    ]);
  });

  it('picks the version in force: latest effectiveFrom at or before the instant', () => {
    const jan = version({ effectiveFrom: '2025-01-01T00:00:00.000Z' });
    const june = version({ effectiveFrom: '2025-06-01T00:00:00.000Z' });
    expect(versionInForce([june, jan], new Date('2025-05-31T23:59:59.999Z'))).toBe(jan);
    expect(versionInForce([jan, june], new Date('2025-06-01T00:00:00.000Z'))).toBe(june);
    expect(versionInForce([jan], new Date('2024-12-31T00:00:00.000Z'))).toBeUndefined();
  });
});
