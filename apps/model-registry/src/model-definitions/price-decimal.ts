import { Decimal } from 'decimal.js';
import { AppError, DECIMAL_STRING, USAGE_TYPES, type UsageType } from '#libs/contracts';

/**
 * The one written form of a price: plain decimal notation, no exponent, no trailing zeros
 * ("0.00000250" -> "0.0000025"). decimal.js keeps every digit it is given (precision only bounds
 * arithmetic), so this never rounds; it never passes through a JavaScript number.
 */
export function normalisePrice(text: string): string {
  return new Decimal(text).toFixed();
}

/** Checks a price map (usage type -> decimal string) and writes each price in its normal form. */
export function normalisePrices(prices: Partial<Record<UsageType, string>>): [UsageType, string][] {
  const entries = Object.entries(prices) as [string, unknown][];
  const bad = entries.filter(([k, v]) => !(USAGE_TYPES as readonly string[]).includes(k) || typeof v !== 'string' || !DECIMAL_STRING.test(v));
  if (entries.length === 0 || bad.length > 0) {
    throw AppError.validation([
      { field: 'prices', messages: [`prices must map usage types (${USAGE_TYPES.join(', ')}) to non-negative decimal strings${bad.length > 0 ? `; bad: ${bad.map(([k]) => k).join(', ')}` : ''}`] },
    ]);
  }
  return entries.map(([k, v]) => [k as UsageType, normalisePrice(v as string)]);
}
