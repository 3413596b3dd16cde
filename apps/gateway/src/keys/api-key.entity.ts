import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { BudgetMode, BudgetPeriod, KeyOwnerKind, KeyRole } from '#libs/contracts';
import type { TenantOwned } from '#libs/db';

/** A gateway key. Only the SHA-256 of the key is stored; the key itself is shown once at creation. */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity implements TenantOwned {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'organisation_id' }) organisationId!: string;
  @Column('text', { name: 'project_id', nullable: true }) projectId!: string | null;
  @Column('text') name!: string;
  @Column('text') role!: KeyRole;
  @Column('text') prefix!: string;
  @Column('text', { name: 'key_hash' }) keyHash!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
  @Column('integer', { name: 'requests_per_minute', nullable: true }) requestsPerMinute!: number | null;
  @Column('integer', { name: 'tokens_per_minute', nullable: true }) tokensPerMinute!: number | null;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt!: Date | null;
  @Column('jsonb', { name: 'allowed_models', nullable: true }) allowedModels!: string[] | null;
  /** The response cache's default for the key's calls (issue 15.6): a TTL in seconds; null = only calls that ask. */
  @Column('integer', { name: 'cache_ttl_seconds', nullable: true }) cacheTtlSeconds!: number | null;
  @Column('jsonb', { nullable: true }) owner!: StoredKeyOwner | null;
  /** The amount stays a decimal string (DESIGN.md: money is never a float). */
  @Column('jsonb', { nullable: true }) budget!: StoredKeyBudget | null;
}

export interface StoredKeyOwner {
  kind: KeyOwnerKind;
  name: string;
  email?: string;
}

export interface StoredKeyBudget {
  amount: string;
  period: BudgetPeriod;
  mode: BudgetMode;
}
