import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DefinitionSource, TokenizerId } from '#libs/contracts';
import type { TenantOwned } from '#libs/db';

/** How spans name a model (match pattern), how its tokens are counted, and (in model_price_tiers and model_prices) what they cost. */
@Entity({ name: 'model_definitions' })
export class ModelDefinitionEntity implements TenantOwned {
  @PrimaryColumn('text') id!: string;
  /** SYSTEM_ORGANISATION_ID for the built-in catalogue's definitions, which every organisation sees. */
  @Column('text', { name: 'organisation_id' }) organisationId!: string;
  @Column('text', { name: 'project_id', nullable: true }) projectId!: string | null;
  @Column('text') name!: string;
  @Column('text', { name: 'match_pattern' }) matchPattern!: string;
  @Column('text') tokenizer!: TokenizerId;
  @Column('text') source!: DefinitionSource;
  @Column('integer') priority!: number;
  /** The catalogue entry a System definition comes from; null for User definitions. */
  @Column('text', { name: 'catalogue_key', nullable: true }) catalogueKey!: string | null;
  @Column('timestamp with time zone', { name: 'last_used_at', precision: 3, nullable: true }) lastUsedAt!: Date | null;
  @Column('timestamp with time zone', { name: 'created_at', precision: 3 }) createdAt!: Date;
  @Column('timestamp with time zone', { name: 'updated_at', precision: 3 }) updatedAt!: Date;
}
