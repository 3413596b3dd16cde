import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { newId } from '#libs/db';
import { DetachedAuditWriter, type AuditEntry } from '#libs/tenancy';
import { DataSource, type EntityManager } from 'typeorm';
import { GatewayAuditEntryEntity } from './gateway-audit-entry.entity.js';

/**
 * The gateway's audit log. Kept in the gateway's own schema rather than sent to the vault's over
 * the bus: a key's creation and its entry commit in one transaction, key administration does not
 * depend on the vault being up, and a refusal at the door needs no bus round trip.
 */
@Injectable()
export class GatewayAuditLog implements OnModuleDestroy {
  private readonly detached: DetachedAuditWriter<AuditEntry>;

  constructor(private readonly dataSource: DataSource) {
    this.detached = new DetachedAuditWriter((entry) => this.record(entry), new Logger('GatewayAudit'));
  }

  /** Inside the caller's transaction when given, so the entry commits with the change it records. */
  async record(entry: AuditEntry, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.getRepository(GatewayAuditEntryEntity).insert({
      id: newId('audit'),
      organisationId: entry.organisationId,
      projectId: entry.projectId,
      actorKeyId: entry.actor.keyId,
      actorName: entry.actor.name,
      actorProjectId: entry.actorProjectId,
      action: entry.action,
      targetId: entry.targetId,
      outcome: entry.outcome,
      reason: entry.reason,
    });
  }

  /** A denied or failed attempt: answered at once, written after (retried, logged if lost). */
  recordAttempt(entry: AuditEntry): void {
    this.detached.record(entry);
  }

  settled(): Promise<void> {
    return this.detached.drain();
  }

  /** Before the database module closes its connections (that is onApplicationShutdown). */
  async onModuleDestroy(): Promise<void> {
    await this.detached.drain();
  }
}
