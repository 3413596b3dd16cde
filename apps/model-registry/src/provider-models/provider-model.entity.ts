import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TenantOwned } from '#libs/db';

/** A routing entry: the model name clients send, served by a connection's upstream model. */
@Entity({ name: 'provider_models' })
export class ProviderModelEntity implements TenantOwned {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'organisation_id' }) organisationId!: string;
  @Column('text', { name: 'project_id', nullable: true }) projectId!: string | null;
  @Column('text') name!: string;
  @Column('text', { name: 'connection_id' }) connectionId!: string;
  @Column('text', { name: 'upstream_model' }) upstreamModel!: string;
  @Column('integer', { name: 'max_input_tokens', nullable: true }) maxInputTokens!: number | null;
  @Column('integer', { name: 'max_output_tokens', nullable: true }) maxOutputTokens!: number | null;
  @Column('timestamp with time zone', { name: 'created_at', precision: 3 }) createdAt!: Date;
  @Column('timestamp with time zone', { name: 'updated_at', precision: 3 }) updatedAt!: Date;
}
