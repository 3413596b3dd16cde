import { Injectable } from '@nestjs/common';
import type { TenantScope } from '#libs/contracts';
import { tenantWhere } from '#libs/db';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { PAGE_ORDER, pageWhere, type PageRequest } from '../common/page-request.js';
import { ModelRewriteRuleEntity } from './model-rewrite-rule.entity.js';

/** Every read a caller makes goes through tenantWhere; only `all` (the gateway's load) crosses tenants. */
@Injectable()
export class ModelRewriteRulesRepository {
  private readonly rows: Repository<ModelRewriteRuleEntity>;

  constructor(dataSource: DataSource) {
    this.rows = dataSource.getRepository(ModelRewriteRuleEntity);
  }

  async save(row: ModelRewriteRuleEntity, manager: EntityManager): Promise<void> {
    await manager.getRepository(ModelRewriteRuleEntity).save(row);
  }

  findById(scope: TenantScope, id: string): Promise<ModelRewriteRuleEntity | null> {
    return this.rows.findOne({ where: tenantWhere<ModelRewriteRuleEntity>(scope, { id }) });
  }

  /** The row in the caller's organisation whatever its project: the service applies the ownership rule. */
  findInOrganisation(scope: TenantScope, id: string): Promise<ModelRewriteRuleEntity | null> {
    return this.rows.findOne({ where: { id, organisationId: scope.organisationId } });
  }

  page(scope: TenantScope, page: PageRequest): Promise<ModelRewriteRuleEntity[]> {
    return this.rows.find({ where: pageWhere<ModelRewriteRuleEntity>(scope, page.after), order: PAGE_ORDER, take: page.limit + 1 });
  }

  async deleteById(id: string, manager: EntityManager): Promise<boolean> {
    const result = await manager.getRepository(ModelRewriteRuleEntity).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /** Every organisation's rules in the order they apply. */
  all(): Promise<ModelRewriteRuleEntity[]> {
    return this.rows.find({ order: { position: 'ASC', createdAt: 'ASC', id: 'ASC' } });
  }
}
