import { Injectable } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import { AppError, type AuditLogEntryView, type AuditLogListInput, type AuditLogPageView, type AuditLogPosition, type AuditLogQueryDto, type CommandEnvelope } from '#libs/contracts';
import { readAuditLog } from '#libs/db';
import { DataSource } from 'typeorm';

export const AUDIT_PAGE_DEFAULT = 50;

/**
 * GET /admin/audit-log: one log over the three that record changes, each in its own schema and
 * written in the same transaction as the change it records (gateway keys here; connections, config
 * imports and master keys in the vault; provider models, definitions and rewrite rules in the
 * registry). Each answers its newest `limit + 1` entries older than the cursor, filtered and scoped
 * by the caller's organisation (and project); the pages are merged by (at, id), which orders every
 * entry of every service, so a cursor is one position for all three.
 */
@Injectable()
export class AuditLogQueryService {
  constructor(
    private readonly bus: BusClient,
    private readonly dataSource: DataSource,
  ) {}

  async list(command: CommandEnvelope<AuditLogQueryDto>): Promise<AuditLogPageView> {
    const { scope, input: query } = command;
    if (query.from !== undefined && query.to !== undefined && new Date(query.from) >= new Date(query.to)) {
      throw AppError.validation([{ field: 'to', messages: ['to must be after from'] }]);
    }
    const limit = query.limit ?? AUDIT_PAGE_DEFAULT;
    const input: AuditLogListInput = {
      ...(query.actor !== undefined ? { actor: query.actor } : {}),
      ...(query.action !== undefined ? { action: query.action } : {}),
      ...(query.resource !== undefined ? { resource: query.resource } : {}),
      ...(query.from !== undefined ? { from: query.from } : {}),
      ...(query.to !== undefined ? { to: query.to } : {}),
      limit: limit + 1,
      ...(query.cursor !== undefined ? { before: decodeCursor(query.cursor) } : {}),
    };
    const envelope = { ...command, input };
    const pages = await Promise.all([
      readAuditLog(this.dataSource.manager, scope, input, { service: 'gateway' }),
      this.bus.request('vault.v1.audit-log.list', envelope),
      this.bus.request('registry.v1.audit-log.list', envelope),
    ]);
    const merged = pages.flat().sort(newestFirst);
    const items = merged.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: merged.length > limit && last ? encodeCursor({ at: last.at, id: last.id }) : null };
  }
}

function newestFirst(a: AuditLogEntryView, b: AuditLogEntryView): number {
  if (a.at !== b.at) return a.at < b.at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function encodeCursor(position: AuditLogPosition): string {
  return Buffer.from(JSON.stringify([position.at, position.id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): AuditLogPosition {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(at))) return { at, id };
  } catch {
    // answered below
  }
  throw AppError.validation([{ field: 'cursor', messages: ['cursor must be the nextCursor of a previous page'] }]);
}
