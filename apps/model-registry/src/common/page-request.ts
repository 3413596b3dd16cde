import { AppError, type ListInput, type Page, type TenantScope } from '#libs/contracts';
import { tenantWhere, type TenantOwned } from '#libs/db';
import { Equal, MoreThan, type FindOptionsWhere, type ObjectLiteral } from 'typeorm';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

/** Where a page starts: just after the row with this (created_at, id). */
export interface PageKey {
  createdAt: Date;
  id: string;
}

export interface PageRequest {
  limit: number;
  after: PageKey | null;
}

interface Keyed {
  createdAt: Date;
  id: string;
}

/**
 * Reads `limit` (default 50; more than 200 is served as 200) and the opaque cursor of a list command.
 * The cursor is the (created_at, id) of the last row served; created_at columns have millisecond
 * precision (timestamptz(3)), so a JavaScript Date carries them exactly.
 */
export function pageRequest(input: ListInput | undefined): PageRequest {
  const rawLimit: unknown = input?.limit;
  let limit = DEFAULT_PAGE_LIMIT;
  if (rawLimit !== undefined && rawLimit !== null) {
    // A query string may arrive untransformed ("20").
    const n = typeof rawLimit === 'string' && /^\d+$/.test(rawLimit) ? Number(rawLimit) : rawLimit;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      throw AppError.validation([{ field: 'limit', messages: [`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`] }]);
    }
    limit = Math.min(n, MAX_PAGE_LIMIT);
  }
  const cursor: unknown = input?.cursor;
  if (cursor === undefined || cursor === null || cursor === '') return { limit, after: null };
  return { limit, after: decodeCursor(cursor) };
}

export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify([key.createdAt.toISOString(), key.id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: unknown): PageKey {
  const invalid = AppError.validation([{ field: 'cursor', messages: ['cursor must be a nextCursor returned by this list'] }]);
  if (typeof cursor !== 'string' || cursor.length > 512) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') throw invalid;
  const createdAt = new Date(parsed[0]);
  if (Number.isNaN(createdAt.getTime())) throw invalid;
  return { createdAt, id: parsed[1] };
}

/**
 * The tenant-scoped WHERE of one page: rows after the key in (created_at, id) order. The
 * disjunction "created_at > t OR (created_at = t AND id > i)" is the union of two tenantWhere
 * lists, so the tenant condition is in every branch by construction.
 */
export function pageWhere<E extends ObjectLiteral & TenantOwned & Keyed>(scope: TenantScope, after: PageKey | null): FindOptionsWhere<E>[] {
  if (after === null) return tenantWhere<E>(scope);
  return [
    ...tenantWhere<E>(scope, { createdAt: MoreThan(after.createdAt) } as FindOptionsWhere<E>),
    ...tenantWhere<E>(scope, { createdAt: Equal(after.createdAt), id: MoreThan(after.id) } as FindOptionsWhere<E>),
  ];
}

/** The order every list uses, matching the cursor. */
export const PAGE_ORDER = { createdAt: 'ASC', id: 'ASC' } as const;

/** Turns `limit + 1` fetched rows into a page: the extra row only says that another page exists. */
export async function toPage<R extends Keyed, V>(rows: R[], limit: number, view: (rows: R[]) => V[] | Promise<V[]>): Promise<Page<V>> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: await view(items), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
