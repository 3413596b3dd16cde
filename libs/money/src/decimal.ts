import { Decimal as DecimalJs } from 'decimal.js';

/**
 * Significant digits kept by arithmetic. Chosen so that no product or sum of prices and token
 * counts the contracts allow is ever rounded: a price has at most 18 integer and 30 fraction digits
 * (DECIMAL_STRING in libs/contracts), a token count at most 19 digits (Postgres bigint), so a
 * price × tokens product has at most 67 significant digits and a sum of a handful of them 68.
 * decimal.js keeps every digit of a parsed value regardless of precision; precision only bounds
 * the result of an operation, and multiplication and addition cost the same at any precision.
 */
export const DECIMAL_PRECISION = 100;

/**
 * The decimal type for money: a decimal.js clone with enough precision never to round a price or a
 * cost, and exponent thresholds so wide that even toString() writes plain digits.
 * Compute with its methods (`price.times(tokens)`, `a.plus(b)`), never with JavaScript numbers.
 */
export const Decimal = DecimalJs.clone({
  precision: DECIMAL_PRECISION,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -9e15,
  toExpPos: 9e15,
});
export type Decimal = DecimalJs;

export const ZERO: Decimal = new Decimal(0);

/** A plain decimal numeral: optional minus, no leading zeros, optional fraction; no exponent, no spaces. */
const DECIMAL_TEXT = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/** The most digits a parsed numeral may have: more could not be computed with exactly. */
export const MAX_DECIMAL_DIGITS = DECIMAL_PRECISION;

export class DecimalParseError extends Error {
  constructor(readonly input: unknown, reason: string) {
    super(`not a decimal number (${reason}): ${JSON.stringify(typeof input === 'string' && input.length > 80 ? `${input.slice(0, 80)}…` : input)}`);
    this.name = 'DecimalParseError';
  }
}

/** Whether `text` is a plain decimal numeral `parseDecimal` accepts. */
export function isDecimalString(text: unknown): text is string {
  return typeof text === 'string' && DECIMAL_TEXT.test(text) && digitCount(text) <= MAX_DECIMAL_DIGITS;
}

/**
 * Parses a plain decimal numeral ("0.0000025", "-12", "1234.50") exactly. Anything else is refused:
 * JavaScript numbers (which may already have lost digits), exponents ("2.5e-6"), "NaN", "Infinity",
 * hex, blanks, "+1", ".5", "1.", leading zeros ("007").
 * @throws DecimalParseError
 */
export function parseDecimal(text: string): Decimal {
  if (typeof text !== 'string') throw new DecimalParseError(text, 'expected a string');
  if (!DECIMAL_TEXT.test(text)) throw new DecimalParseError(text, 'expected digits with an optional minus sign and fraction');
  if (digitCount(text) > MAX_DECIMAL_DIGITS) throw new DecimalParseError(text, `more than ${MAX_DECIMAL_DIGITS} digits`);
  return new Decimal(text);
}

/**
 * Writes a decimal in plain notation with every digit it has: no exponent, no rounding, no trailing
 * fraction zeros ("0.0000025", "1234", "0.008755"); negative zero is written "0".
 */
export function formatDecimal(value: Decimal): string {
  if (!value.isFinite()) throw new RangeError(`cannot format ${value.toString()} as a decimal`);
  if (value.isZero()) return '0';
  return value.toFixed();
}

/** Exact sum of decimals (0 for none). */
export function sumDecimals(values: Iterable<Decimal>): Decimal {
  let total: Decimal = ZERO;
  for (const v of values) total = total.plus(v);
  return total;
}

function digitCount(text: string): number {
  let n = 0;
  for (const ch of text) if (ch >= '0' && ch <= '9') n++;
  return n;
}
