import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { TenantOwned } from '#libs/db';

@Entity({ name: 'playground_runs' })
export class PlaygroundRunEntity implements TenantOwned {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'organisation_id' }) organisationId!: string;
  @Column('text', { name: 'project_id', nullable: true }) projectId!: string | null;
  @Column('text', { name: 'actor_key_id' }) actorKeyId!: string;
  @Column('text') model!: string;
  @Column('jsonb') messages!: unknown;
  @Column('text') status!: 'succeeded' | 'failed';
  @Column('text', { nullable: true }) output!: string | null;
  @Column('integer', { name: 'input_tokens', nullable: true }) inputTokens!: number | null;
  @Column('integer', { name: 'output_tokens', nullable: true }) outputTokens!: number | null;
  @Column('text', { nullable: true }) error!: string | null;
  @Column('integer', { name: 'latency_ms' }) latencyMs!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 }) createdAt!: Date;
}
