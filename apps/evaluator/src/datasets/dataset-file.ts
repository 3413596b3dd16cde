import { parse } from 'csv-parse/sync';
import type { DatasetRowDto, RejectedRowView } from '#libs/contracts';

export interface ParsedRows {
  rows: DatasetRowDto[];
  rejected: RejectedRowView[];
}

/** Each row as the API takes it: `input` present, `metadata` (when given) an object. Returns why not, or null. */
export function rowProblem(row: unknown): string | null {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return 'a row must be a JSON object with an "input"';
  const r = row as Record<string, unknown>;
  if (r.input === undefined || r.input === null) return 'the row has no "input"';
  if (r.metadata !== undefined && (typeof r.metadata !== 'object' || r.metadata === null || Array.isArray(r.metadata))) return '"metadata" must be an object';
  const unknown = Object.keys(r).filter((k) => k !== 'input' && k !== 'expected' && k !== 'metadata');
  if (unknown.length > 0) return `unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; put them in "metadata"`;
  return null;
}

/** JSONL: one row object a line; blank lines are skipped; a bad line is reported by its number and the rest kept. */
export function parseJsonl(content: string): ParsedRows {
  const rows: DatasetRowDto[] = [];
  const rejected: RejectedRowView[] = [];
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.replace(/\r$/, '').trim();
    if (text === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      rejected.push({ line: i + 1, message: `not JSON: ${(err as Error).message}` });
      continue;
    }
    const problem = rowProblem(value);
    if (problem) rejected.push({ line: i + 1, message: problem });
    else {
      const r = value as DatasetRowDto;
      rows.push({ input: r.input, expected: r.expected, metadata: r.metadata });
    }
  }
  return { rows, rejected };
}

/**
 * CSV: a header line naming the columns; `input` is required, `expected` optional, every other
 * column goes into the row's metadata. A record with the wrong number of fields or broken quoting
 * is reported by its line and skipped.
 */
export function parseCsv(content: string): ParsedRows {
  const rows: DatasetRowDto[] = [];
  const rejected: RejectedRowView[] = [];
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(content, {
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
      bom: true,
      skip_records_with_error: true,
      on_skip: (err) => {
        if (err) rejected.push({ line: Number((err as { lines?: unknown }).lines ?? 0), message: err.message });
        return undefined;
      },
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    return { rows, rejected: [{ line: 1, message: `not CSV: ${(err as Error).message}` }] };
  }
  const [head, ...body] = records;
  if (!head) return { rows, rejected: [{ line: 1, message: 'the file is empty: a header line with an "input" column is needed' }] };
  const columns = head.record.map((c) => c.trim());
  const inputAt = columns.indexOf('input');
  if (inputAt < 0) return { rows, rejected: [{ line: head.info.lines, message: `the header has no "input" column (it has ${columns.join(', ')})` }] };
  const expectedAt = columns.indexOf('expected');
  for (const { record, info } of body) {
    if (record.length !== columns.length) {
      rejected.push({ line: info.lines, message: `${record.length} fields where the header has ${columns.length}` });
      continue;
    }
    if (record[inputAt] === '') {
      rejected.push({ line: info.lines, message: 'the "input" field is empty' });
      continue;
    }
    const metadata: Record<string, unknown> = {};
    columns.forEach((c, i) => {
      if (i !== inputAt && i !== expectedAt) metadata[c] = record[i];
    });
    rows.push({ input: record[inputAt], expected: expectedAt >= 0 && record[expectedAt] !== '' ? record[expectedAt] : undefined, metadata });
  }
  rejected.sort((a, b) => a.line - b.line);
  return { rows, rejected };
}
