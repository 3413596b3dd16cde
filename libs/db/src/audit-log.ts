import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { DetachedAuditWriter, type AuditEntry, type AuditOutcome } from '#libs/tenancy';
import { Column, DataSource, Entity, PrimaryColumn, type EntityManager, type QueryRunner } from 'typeorm';
import { newId } from './ids.js';

/**
 * One row of a service's `audit_log` table (libs/tenancy AuditEntry), for the services whose
 * audit log is exactly that shape (gateway, model registry); each creates the table in its own
 * schema by its own migration, with createAuditLogTable. The vault's table adds a details column
 * and keeps its own entity.
 */
@Entity({ name: 'audit_log' })
export class AuditLogRowEntity {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'organisation_id', nullable: true }) organisationId!: string | null;
  @Column('text', { name: 'project_id', nullable: true }) projectId!: string | null;
  @Column('text', { name: 'actor_key_id' }) actorKeyId!: string;
  @Column('text', { name: 'actor_name' }) actorName!: string;
  @Column('text', { name: 'actor_project_id', nullable: true }) actorProjectId!: string | null;
  @Column('text') action!: string;
  @Column('text', { name: 'target_id', nullable: true }) targetId!: string | null;
  @Column('text') outcome!: AuditOutcome;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' }) at!: Date;
}

/**
 * Creates the `audit_log` table that AuditLogRowEntity maps, and its index, in the schema the
 * migration runs in: the service's own, which its connection's search_path names (the names stay
 * unqualified so the SQL is the one every service's migration has always run).
 */
export async function createAuditLogTable(q: QueryRunner): Promise<void> {
  await q.query(`
      CREATE TABLE audit_log (
        id text PRIMARY KEY,
        organisation_id text,
        project_id text,
        actor_key_id text NOT NULL,
        actor_name text NOT NULL,
        actor_project_id text,
        action text NOT NULL,
        target_id text,
        outcome text NOT NULL CHECK (outcome IN ('succeeded', 'denied', 'failed')),
        reason text,
        at timestamptz(3) NOT NULL DEFAULT now()
      )`);
  await q.query(`CREATE INDEX audit_log_org_at ON audit_log (organisation_id, at, id)`);
}

/** Undoes createAuditLogTable, in the schema the migration runs in. */
export async function dropAuditLogTable(q: QueryRunner): Promise<void> {
  await q.query(`DROP TABLE audit_log`);
}

/** Writes a service's audit entries: in the change's own transaction, or (refusals) just after the answer. */
@Injectable()
export class AuditLog implements OnModuleDestroy {
  private readonly detached: DetachedAuditWriter<AuditEntry>;

  constructor(private readonly dataSource: DataSource) {
    this.detached = new DetachedAuditWriter((entry) => this.record(entry), new Logger('AuditLog'));
  }

  /** Inside the caller's transaction when given, so the entry commits with the change it records. */
  async record(entry: AuditEntry, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.getRepository(AuditLogRowEntity).insert({
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

  /** A denied or failed attempt (or a success without a transaction to join): answered at once, written after, retried, logged if lost. */
  recordAttempt(entry: AuditEntry): void {
    this.detached.record(entry);
  }

  /** Runs `fn` in one transaction: a change and its entry commit together. */
  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  settled(): Promise<void> {
    return this.detached.drain();
  }

  /** Before the database module closes its connections (that is onApplicationShutdown). */
  async onModuleDestroy(): Promise<void> {
    await this.detached.drain();
  }
}
