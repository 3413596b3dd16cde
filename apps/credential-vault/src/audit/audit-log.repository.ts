import { Injectable } from '@nestjs/common';
import { newId } from '#libs/db';
import type { EntityManager } from 'typeorm';
import type { AuditAction } from './audit-action.js';
import { AuditLogEntryEntity, type AuditDetails } from './audit-log-entry.entity.js';

export interface AuditActor {
  keyId: string;
  name: string;
}

/** The vault itself, for what it does on its own (re-wrapping data keys at start). */
export const SYSTEM_ACTOR: AuditActor = { keyId: 'system', name: 'credential-vault' };

/** One audit entry. There is deliberately no field that could carry a secret. */
export interface NewAuditEntry {
  organisationId: string;
  projectId: string | null;
  actor: AuditActor;
  action: AuditAction;
  targetId: string;
  details?: AuditDetails;
}

@Injectable()
export class AuditLogRepository {
  /** Writes inside the caller's transaction, so the entry commits (or not) with the change it records. */
  async record(entry: NewAuditEntry, manager: EntityManager): Promise<void> {
    await manager.getRepository(AuditLogEntryEntity).insert({
      id: newId('audit'),
      organisationId: entry.organisationId,
      projectId: entry.projectId,
      actorKeyId: entry.actor.keyId,
      actorName: entry.actor.name,
      action: entry.action,
      targetId: entry.targetId,
      details: entry.details ?? null,
    });
  }
}
