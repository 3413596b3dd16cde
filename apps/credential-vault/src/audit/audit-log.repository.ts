import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { newId } from '#libs/db';
import { DetachedAuditWriter, type AuditActor, type AuditEntry } from '#libs/tenancy';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditAction } from './audit-action.js';
import { AuditLogEntryEntity, type AuditDetails } from './audit-log-entry.entity.js';

export type { AuditActor } from '#libs/tenancy';

/** The vault itself, for what it does on its own (re-wrapping data keys at start). */
export const SYSTEM_ACTOR: AuditActor = { keyId: 'system', name: 'credential-vault' };

/**
 * One vault audit entry: the shared shape, always inside an organisation (the bus envelope
 * carries one). There is deliberately no field that could carry a secret.
 */
export interface NewAuditEntry extends Omit<AuditEntry<AuditAction>, 'organisationId' | 'actorProjectId' | 'outcome' | 'reason'> {
  organisationId: string;
  actorProjectId?: string | null;
  outcome?: AuditEntry['outcome'];
  reason?: string | null;
  details?: AuditDetails;
}

@Injectable()
export class AuditLogRepository implements OnModuleDestroy {
  private readonly detached: DetachedAuditWriter<AuditEntry<AuditAction> & { organisationId: string }>;

  constructor(private readonly dataSource: DataSource) {
    this.detached = new DetachedAuditWriter((entry) => this.record(entry, this.dataSource.manager), new Logger('VaultAudit'));
  }

  /** Writes inside the caller's transaction, so the entry commits (or not) with the change it records. */
  async record(entry: NewAuditEntry, manager: EntityManager): Promise<void> {
    await manager.getRepository(AuditLogEntryEntity).insert({
      id: newId('audit'),
      organisationId: entry.organisationId,
      projectId: entry.projectId,
      actorKeyId: entry.actor.keyId,
      actorName: entry.actor.name,
      actorProjectId: entry.actorProjectId ?? null,
      action: entry.action,
      targetId: entry.targetId,
      outcome: entry.outcome ?? 'succeeded',
      reason: entry.reason ?? null,
      details: entry.details ?? null,
    });
  }

  /**
   * A denied or failed attempt: there is no transaction to join (the attempt's rolled back), and
   * the refusal should not wait for the write. Retried, and logged in full if it cannot be written.
   */
  recordAttempt(entry: AuditEntry<AuditAction> & { organisationId: string }): void {
    this.detached.record(entry);
  }

  /** Entries of attempts still being written (tests, shutdown). */
  settled(): Promise<void> {
    return this.detached.drain();
  }

  /** Before the database module closes its connections (that is onApplicationShutdown). */
  async onModuleDestroy(): Promise<void> {
    await this.detached.drain();
  }
}
