import { AppError } from '#libs/contracts';
import type { ListPosition } from './connections.repository.js';

/** Opaque to clients: base64url of the last row's (created_at, id). */
export function encodeListCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify({ t: position.createdAt.toISOString(), i: position.id }), 'utf8').toString('base64url');
}

export function decodeListCursor(cursor: string): ListPosition {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; i?: unknown };
    const createdAt = typeof parsed.t === 'string' ? new Date(parsed.t) : undefined;
    if (createdAt && !Number.isNaN(createdAt.getTime()) && typeof parsed.i === 'string') return { createdAt, id: parsed.i };
  } catch {
    // fall through: any undecodable cursor is the caller's mistake, reported below
  }
  throw AppError.validation([{ field: 'cursor', messages: ['cursor must be a nextCursor returned by this list'] }]);
}
