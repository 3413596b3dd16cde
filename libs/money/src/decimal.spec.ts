import { Decimal as DecimalJs } from 'decimal.js';
import { Decimal, DecimalParseError, formatDecimal, isDecimalString, parseDecimal, sumDecimals, ZERO } from './decimal.js';

describe('parseDecimal', () => {
  it.each(['0', '1', '-1', '0.0000025', '1234.50', '123456789012345678.123456789012345678901234567890', '-0.000000000000000000000000000001'])(
    'accepts the plain numeral %s and keeps its value exactly',
    (text) => {
      expect(parseDecimal(text).equals(new DecimalJs(text))).toBe(true);
    },
  );

  it.each(['', ' 1', '1 ', '+1', '.5', '1.', '007', '00.5', '2.5e-6', '1E3', 'NaN', 'Infinity', '-Infinity', '0x10', '1,5', '1_000', '--1', '١'])(
    'refuses %j, which is not a plain decimal numeral',
    (text) => {
      expect(() => parseDecimal(text)).toThrow(DecimalParseError);
      expect(isDecimalString(text)).toBe(false);
    },
  );

  it('refuses JavaScript numbers, which may already have lost digits', () => {
    expect(() => parseDecimal(0.1 as unknown as string)).toThrow(DecimalParseError);
    expect(isDecimalString(0.1)).toBe(false);
  });

  it('refuses a numeral with more digits than arithmetic keeps exactly', () => {
    expect(() => parseDecimal(`0.${'1'.repeat(100)}`)).toThrow(/more than 100 digits/);
    expect(parseDecimal(`0.${'1'.repeat(99)}`).toFixed()).toBe(`0.${'1'.repeat(99)}`);
  });
});

describe('formatDecimal', () => {
  it('writes small prices in plain notation, never with an exponent', () => {
    expect(formatDecimal(parseDecimal('0.0000000001'))).toBe('0.0000000001');
    expect(parseDecimal('0.0000000001').toString()).toBe('0.0000000001');
    expect(JSON.stringify({ p: parseDecimal('0.0000000001') })).toBe('{"p":"0.0000000001"}');
  });

  it('writes large values in plain notation', () => {
    expect(formatDecimal(parseDecimal('123456789012345678901234567890'))).toBe('123456789012345678901234567890');
  });

  it('drops trailing fraction zeros but no significant digit', () => {
    expect(formatDecimal(parseDecimal('1234.5000'))).toBe('1234.5');
    expect(formatDecimal(parseDecimal('0.000000000000000000000000000001'))).toBe('0.000000000000000000000000000001');
  });

  it('writes negative zero as 0', () => {
    expect(formatDecimal(parseDecimal('-0'))).toBe('0');
    expect(formatDecimal(parseDecimal('0.5').minus(parseDecimal('0.5')).negated())).toBe('0');
  });

  it('refuses to format NaN or infinity', () => {
    expect(() => formatDecimal(new Decimal(NaN))).toThrow(RangeError);
  });
});

describe('Decimal arithmetic for money', () => {
  it('multiplies prices by token counts exactly: 1234 x 0.0000025 + 567 x 0.00001 = 0.008755', () => {
    const cost = parseDecimal('0.0000025').times(1234n).plus(parseDecimal('0.00001').times(567n));
    expect(formatDecimal(cost)).toBe('0.008755');
  });

  it('adds 0.1 and 0.2 to exactly 0.3 (a float gives 0.30000000000000004)', () => {
    expect(formatDecimal(parseDecimal('0.1').plus(parseDecimal('0.2')))).toBe('0.3');
  });

  it('keeps all 67 digits of the largest price times the largest token count', () => {
    const price = parseDecimal('999999999999999999.999999999999999999999999999999');
    const tokens = 9223372036854775807n; // Postgres bigint max
    // computed with Python's integers: 999...9 (48 nines) x 9223372036854775807, point moved 30 places
    expect(formatDecimal(price.times(tokens))).toBe('9223372036854775806999999999999999999.999999999990776627963145224193');
  });

  it('sums decimals exactly, starting from zero', () => {
    expect(formatDecimal(sumDecimals([]))).toBe('0');
    expect(formatDecimal(sumDecimals(['0.1', '0.2', '0.0000000000000000000000001'].map(parseDecimal)))).toBe('0.3000000000000000000000001');
    expect(ZERO.isZero()).toBe(true);
  });

  it('sums at full precision even when given default-configured decimal.js values', () => {
    const a = new DecimalJs('0.000000000000000000000000000001');
    const b = new DecimalJs('100000000000000000000');
    expect(formatDecimal(sumDecimals([b, a]))).toBe('100000000000000000000.000000000000000000000000000001');
  });
});
