import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TenantOwned } from '#libs/db';
import type { AuditOutcome } from '#libs/tenancy';
import type { AuditAction } from './audit-action.js';

/** Only counts and key ids, never anything derived from a secret. */
export interface AuditDetails {
  count?: number;
  fromMasterKeyIds?: string[];
  /** connection.updated: the fields a change touched (names only, never a value). */
  fields?: string[];
  /** connection.tested: how the test went. */
  ok?: boolean;
  errorKind?: string;
  /** config.imported: the files imported and the invalid ones (paths under CONFIG_DIR). */
  imported?: string[];
  invalid?: string[];
}

/** Who tried what on which connection, how it ended, and when (libs/tenancy AuditEntry). Never holds a secret. */
@Entity({ name: 'audit_log' })
export class AuditLogEntryEntity implements TenantOwned {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'organisation_id' }) organisationId!: string;
  @Column('text', { name: 'project_id', nullable: true }) projectId!: string | null;
  @Column('text', { name: 'actor_key_id' }) actorKeyId!: string;
  @Column('text', { name: 'actor_name' }) actorName!: string;
  @Column('text', { name: 'actor_project_id', nullable: true }) actorProjectId!: string | null;
  @Column('text') action!: AuditAction;
  @Column('text', { name: 'target_id', nullable: true }) targetId!: string | null;
  @Column('text') outcome!: AuditOutcome;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('jsonb', { nullable: true }) details!: AuditDetails | null;
  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' }) at!: Date;
}
