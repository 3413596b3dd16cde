import { Injectable } from '@nestjs/common';
import type { TenantScope } from '#libs/contracts';
import { tenantWhere } from '#libs/db';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { PAGE_ORDER, pageWhere, type PageRequest } from '../common/page-request.js';
import { ProviderModelEntity } from './provider-model.entity.js';

/** Every read a caller makes goes through tenantWhere; only `all` (the read models' load) crosses tenants. */
@Injectable()
export class ProviderModelsRepository {
  private readonly rows: Repository<ProviderModelEntity>;

  constructor(dataSource: DataSource) {
    this.rows = dataSource.getRepository(ProviderModelEntity);
  }

  /**
   * 'name-taken' when the organisation already has a provider model of that name. The unique index
   * decides (ON CONFLICT DO NOTHING), so two racing creates cannot both win, and an expected
   * conflict is not logged as a failed query.
   */
  async insert(row: ProviderModelEntity): Promise<'inserted' | 'name-taken'> {
    const result = await this.rows.createQueryBuilder().insert().values(row).orIgnore().returning('id').execute();
    return (result.raw as unknown[]).length === 1 ? 'inserted' : 'name-taken';
  }

  findById(scope: TenantScope, id: string): Promise<ProviderModelEntity | null> {
    return this.rows.findOne({ where: tenantWhere<ProviderModelEntity>(scope, { id }) });
  }

  /** One more row than the limit, so the caller knows whether another page follows. */
  page(scope: TenantScope, page: PageRequest): Promise<ProviderModelEntity[]> {
    return this.rows.find({ where: pageWhere<ProviderModelEntity>(scope, page.after), order: PAGE_ORDER, take: page.limit + 1 });
  }

  /** True when a row was deleted. The caller has already checked the tenant with findById. */
  /**
   * The row with this id in the caller's organisation, whatever its project: the service applies
   * the ownership rule itself, so the audit log can tell a refusal from an unknown id.
   */
  findInOrganisation(scope: TenantScope, id: string): Promise<ProviderModelEntity | null> {
    return this.rows.findOne({ where: { id, organisationId: scope.organisationId } });
  }

  async deleteById(id: string, manager?: EntityManager): Promise<boolean> {
    const result = await (manager ? manager.getRepository(ProviderModelEntity) : this.rows).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  all(): Promise<ProviderModelEntity[]> {
    return this.rows.find({ order: PAGE_ORDER });
  }
}
