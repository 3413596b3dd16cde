import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TenantOwned } from '#libs/db';

/** A model-name rewrite: requested names the pattern matches become `target` (002). */
@Entity({ name: 'model_rewrite_rules' })
export class ModelRewriteRuleEntity implements TenantOwned {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'organisation_id' }) organisationId!: string;
  @Column('text', { name: 'project_id', nullable: true }) projectId!: string | null;
  @Column('text') pattern!: string;
  @Column('text') target!: string;
  @Column('integer') position!: number;
  @Column('timestamp with time zone', { name: 'created_at', precision: 3 }) createdAt!: Date;
  @Column('timestamp with time zone', { name: 'updated_at', precision: 3 }) updatedAt!: Date;
}

export function toModelRewriteRuleView(row: ModelRewriteRuleEntity) {
  return {
    id: row.id,
    organisationId: row.organisationId,
    projectId: row.projectId,
    pattern: row.pattern,
    target: row.target,
    position: row.position,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
