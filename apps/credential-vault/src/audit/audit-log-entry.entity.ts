import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TenantOwned } from '#libs/db';
import type { AuditAction } from './audit-action.js';

/** Only counts and key ids, never anything derived from a secret. */
export interface AuditDetails {
  count?: number;
  fromMasterKeyIds?: string[];
}

/** Who did what to which connection, and when. Never holds a secret, masked or not. */
@Entity({ name: 'audit_log' })
export class AuditLogEntryEntity implements TenantOwned {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'organisation_id' }) organisationId!: string;
  @Column('text', { name: 'project_id', nullable: true }) projectId!: string | null;
  @Column('text', { name: 'actor_key_id' }) actorKeyId!: string;
  @Column('text', { name: 'actor_name' }) actorName!: string;
  @Column('text') action!: AuditAction;
  @Column('text', { name: 'target_id' }) targetId!: string;
  @Column('jsonb', { nullable: true }) details!: AuditDetails | null;
  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' }) at!: Date;
}
