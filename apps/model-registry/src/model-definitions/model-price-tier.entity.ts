import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TierConditionView } from '#libs/contracts';

/** One pricing tier of one price version: the default tier (no conditions) or a conditional one. Its prices are in model_prices. */
@Entity({ name: 'model_price_tiers' })
export class ModelPriceTierEntity {
  @PrimaryColumn('text', { name: 'definition_id' }) definitionId!: string;
  @PrimaryColumn('timestamp with time zone', { name: 'effective_from', precision: 3 }) effectiveFrom!: Date;
  @PrimaryColumn('text') name!: string;
  @Column('boolean', { name: 'is_default' }) isDefault!: boolean;
  @Column('integer') priority!: number;
  @Column('jsonb') conditions!: TierConditionView[];
}
