import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AuditOutcome } from '#libs/tenancy';

/** One row of the gateway's audit log (libs/tenancy AuditEntry). Never holds a key, only key ids. */
@Entity({ name: 'audit_log' })
export class GatewayAuditEntryEntity {
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
