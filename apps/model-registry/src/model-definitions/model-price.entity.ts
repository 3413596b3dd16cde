import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { UsageType } from '#libs/contracts';

/**
 * One price of one tier of one version of a definition. `price` is numeric without a fixed scale;
 * it is written as text and read back as text (libs/db sets pg's numeric parser), never as a float.
 */
@Entity({ name: 'model_prices' })
export class ModelPriceEntity {
  @PrimaryColumn('text', { name: 'definition_id' }) definitionId!: string;
  @PrimaryColumn('timestamp with time zone', { name: 'effective_from', precision: 3 }) effectiveFrom!: Date;
  @PrimaryColumn('text') tier!: string;
  @PrimaryColumn('text', { name: 'usage_type' }) usageType!: UsageType;
  @Column('numeric') price!: string;
}
