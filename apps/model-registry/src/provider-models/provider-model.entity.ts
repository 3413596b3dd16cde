import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ModelParameters, ProviderModelKind, ProviderModelStage, ProviderModelStatus } from '#libs/contracts';
import type { TenantOwned } from '#libs/db';

/** One place the model is served (kept as jsonb: always read and written with its model). */
export interface ProviderModelTarget {
  connectionId: string;
  upstreamModel: string;
  weight: number;
}

/** A routing entry: the model name clients send, served by one or more connections' upstream models. */
@Entity({ name: 'provider_models' })
export class ProviderModelEntity implements TenantOwned {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'organisation_id' }) organisationId!: string;
  @Column('text', { name: 'project_id', nullable: true }) projectId!: string | null;
  @Column('text') name!: string;
  @Column('text', { name: 'display_name', nullable: true }) displayName!: string | null;
  @Column('text') kind!: ProviderModelKind;
  @Column('jsonb') targets!: ProviderModelTarget[];
  @Column('text', { array: true }) fallbacks!: string[];
  @Column('boolean', { name: 'failover_by_default' }) failoverByDefault!: boolean;
  @Column('boolean', { name: 'upstream_streams' }) upstreamStreams!: boolean;
  @Column('boolean') multimodal!: boolean;
  @Column('text', { array: true }) stages!: ProviderModelStage[];
  @Column('text') status!: ProviderModelStatus;
  @Column('integer', { name: 'context_window', nullable: true }) contextWindow!: number | null;
  @Column('integer', { name: 'max_input_tokens', nullable: true }) maxInputTokens!: number | null;
  @Column('integer', { name: 'max_output_tokens', nullable: true }) maxOutputTokens!: number | null;
  @Column('integer', { name: 'requests_per_minute', nullable: true }) requestsPerMinute!: number | null;
  @Column('integer', { name: 'tokens_per_minute', nullable: true }) tokensPerMinute!: number | null;
  @Column('jsonb', { name: 'default_parameters' }) defaultParameters!: ModelParameters;
  /** config:<file> for a model imported from CONFIG_DIR; null when managed through the API. */
  @Column('text', { name: 'managed_by', nullable: true }) managedBy!: string | null;
  @Column('timestamp with time zone', { name: 'created_at', precision: 3 }) createdAt!: Date;
  @Column('timestamp with time zone', { name: 'updated_at', precision: 3 }) updatedAt!: Date;
  /** Written only by metering's last-used batches (LastUsedRepository): an edit never moves it. */
  @Column({ type: 'timestamp with time zone', name: 'last_used_at', precision: 3, nullable: true, insert: false, update: false }) lastUsedAt!: Date | null;
}
