import { AppError } from '#libs/contracts';

/**
 * When a price version takes effect. A date-time without an offset is read as UTC, not as the
 * server's local time, so the same request means the same instant on every replica.
 * Precision is the millisecond (the column is timestamptz(3)).
 */
export function parseEffectiveFrom(text: string): Date {
  const withZone = /^\d{4}-\d{2}-\d{2}T[\d:.,]+$/.test(text) ? `${text.replace(',', '.')}Z` : text;
  const at = new Date(withZone);
  if (Number.isNaN(at.getTime())) {
    throw AppError.validation([{ field: 'effectiveFrom', messages: ['effectiveFrom must be an ISO 8601 date or date-time, e.g. 2025-01-01T00:00:00Z'] }]);
  }
  return at;
}
