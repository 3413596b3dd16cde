import type { CostGroupView, CostReportView } from '#libs/contracts';

/** The columns of the CSV export, in order: the report's group fields. */
const COLUMNS = [
  'key',
  'requests',
  'inputTokens',
  'cachedInputTokens',
  'cacheWriteTokens',
  'outputTokens',
  'reasoningTokens',
  'cost',
  'unpricedRequests',
  'missingUsageRequests',
  'partialUsageRequests',
  'errorRequests',
  'estimatedRequests',
] as const satisfies readonly (keyof CostGroupView)[];

/**
 * A cost report as CSV (RFC 4180: CRLF lines, fields quoted when they hold a comma, quote or line
 * break), one row per group under a header row naming the grouping. Costs are the report's exact
 * decimal strings. A text field a spreadsheet would run as a formula (starting with = + - @, tab or
 * CR: model names come from senders' spans) is prefixed with a single quote (OWASP CSV injection).
 */
export function costsCsv(report: CostReportView): string {
  const header = [report.groupBy, ...COLUMNS.slice(1)].map((name) => field(name)).join(',');
  const rows = report.groups.map((g) => COLUMNS.map((c) => (c === 'key' || c === 'cost' ? field(String(g[c]), c === 'key') : String(g[c]))).join(','));
  return [header, ...rows].map((line) => `${line}\r\n`).join('');
}

function field(value: string, text = true): string {
  const safe = text && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
