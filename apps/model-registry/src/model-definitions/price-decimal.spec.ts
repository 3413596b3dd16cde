import { normalisePrice, normalisePrices } from './price-decimal.js';

describe('normalisePrice', () => {
  it('keeps every digit of a small price and writes it without an exponent', () => {
    expect(normalisePrice('0.0000025')).toBe('0.0000025');
    expect(normalisePrice('0.000000000000000000000000000001')).toBe('0.000000000000000000000000000001');
  });

  it('keeps 18 integer and 29 significant fraction digits that a float would lose', () => {
    expect(normalisePrice('123456789012345678.12345678901234567890123456789')).toBe('123456789012345678.12345678901234567890123456789');
  });

  it('drops trailing zeros so one price has one written form', () => {
    expect(normalisePrice('0.00000250')).toBe('0.0000025');
    expect(normalisePrice('2.50')).toBe('2.5');
    expect(normalisePrice('10')).toBe('10');
  });
});

describe('normalisePrices', () => {
  it('refuses an unknown usage type and a price that is not a decimal string', () => {
    expect(() => normalisePrices({ input: '1', bogus: '2' } as never)).toThrow(/prices.*bad: bogus/);
    expect(() => normalisePrices({ input: '1e-6' })).toThrow(/bad: input/);
    expect(() => normalisePrices({})).toThrow(/prices must map/);
  });
});
