/**
 * PostgreSQL's COPY text format: one line per row, fields separated by tabs, `\N` for NULL, and
 * a backslash, tab, newline or carriage return inside a value written as a backslash escape. The
 * cheapest way to hand Postgres many rows: no statement to parse per row and no JSON to decode.
 */

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPED = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** What Postgres text cannot hold: a NUL character, or half of a UTF-16 surrogate pair. */
const UNSTORABLE = /[\0\p{Cs}]/u;

/** True when Postgres can store the string as it is (COPY or any other way). */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/** One field. The caller makes sure the value is storable (isStorableText). */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (c) => ESCAPES[c]!) : value;
}

/** One row, newline included. */
export function copyLine(fields: readonly (string | null)[]): string {
  let line = copyField(fields[0] ?? null);
  for (let i = 1; i < fields.length; i++) line += '\t' + copyField(fields[i] ?? null);
  return line + '\n';
}
