import { AppError } from '#libs/contracts';

/** Lists of datasets, runs and sessions page by (created_at, id): the cursor is that pair of the last row shown. */
export interface CreatedCursor {
  createdAt: Date;
  id: string;
}

export function encodeCreatedCursor(row: { created_at: Date | string; id: string }): string {
  return Buffer.from(JSON.stringify([new Date(row.created_at).toISOString(), row.id])).toString('base64url');
}

export function decodeCreatedCursor(cursor: string): CreatedCursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const createdAt = new Date(at);
    if (typeof id !== 'string' || Number.isNaN(createdAt.getTime())) throw new Error('bad cursor');
    return { createdAt, id };
  } catch {
    throw AppError.validation([{ field: 'cursor', messages: ['cursor is not one this API returned'] }]);
  }
}

/** Row-ordered pages (dataset rows, results, comparisons) use the last row index as the cursor. */
export function rowIndexCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const n = Number(cursor);
  if (!Number.isInteger(n) || n < 0) throw AppError.validation([{ field: 'cursor', messages: ['cursor is not one this API returned'] }]);
  return n;
}
