import { Injectable } from '@nestjs/common';
import type { TenantScope } from '#libs/contracts';
import { tenantWhere } from '#libs/db';
import { DataSource, QueryFailedError, type EntityManager, type Repository } from 'typeorm';
import { PAGE_ORDER, pageWhere, type PageRequest } from '../common/page-request.js';
import { ProviderModelEntity } from './provider-model.entity.js';

/** Every read a caller makes goes through tenantWhere; only `all` (the read models' load) crosses tenants. */
@Injectable()
export class ProviderModelsRepository {
  private readonly rows: Repository<ProviderModelEntity>;

  constructor(dataSource: DataSource) {
    this.rows = dataSource.getRepository(ProviderModelEntity);
  }

  private repo(manager?: EntityManager): Repository<ProviderModelEntity> {
    return manager ? manager.getRepository(ProviderModelEntity) : this.rows;
  }

  /**
   * Serialises the changes of one organisation's provider models for the rest of the transaction:
   * the fallback check reads the organisation's models, and two racing changes must not each pass
   * it and together close a cycle.
   */
  async lockOrganisation(organisationId: string, manager: EntityManager): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('provider_models'), hashtext($1))`, [organisationId]);
  }

  /**
   * 'name-taken' when the organisation already has a provider model of that name. The unique index
   * decides (ON CONFLICT DO NOTHING), so two racing creates cannot both win, and an expected
   * conflict is not logged as a failed query.
   */
  async insert(row: ProviderModelEntity, manager?: EntityManager): Promise<'inserted' | 'name-taken'> {
    const result = await this.repo(manager).createQueryBuilder().insert().values(row).orIgnore().returning('id').execute();
    return (result.raw as unknown[]).length === 1 ? 'inserted' : 'name-taken';
  }

  /** Writes a changed row; 'name-taken' when its new name is another model's. */
  async update(row: ProviderModelEntity, manager: EntityManager): Promise<'updated' | 'name-taken'> {
    try {
      await this.repo(manager).save(row);
      return 'updated';
    } catch (err) {
      if (err instanceof QueryFailedError && (err.driverError as { code?: string } | undefined)?.code === '23505') return 'name-taken';
      throw err;
    }
  }

  findById(scope: TenantScope, id: string): Promise<ProviderModelEntity | null> {
    return this.rows.findOne({ where: tenantWhere<ProviderModelEntity>(scope, { id }) });
  }

  /** One more row than the limit, so the caller knows whether another page follows. */
  page(scope: TenantScope, page: PageRequest): Promise<ProviderModelEntity[]> {
    return this.rows.find({ where: pageWhere<ProviderModelEntity>(scope, page.after), order: PAGE_ORDER, take: page.limit + 1 });
  }

  /**
   * The row with this id in the caller's organisation, whatever its project: the service applies
   * the ownership rule itself, so the audit log can tell a refusal from an unknown id.
   */
  findInOrganisation(scope: TenantScope, id: string, manager?: EntityManager): Promise<ProviderModelEntity | null> {
    return this.repo(manager).findOne({ where: { id, organisationId: scope.organisationId } });
  }

  /** Every provider model of an organisation, all projects (the fallback graph spans them). */
  inOrganisation(organisationId: string, manager: EntityManager): Promise<ProviderModelEntity[]> {
    return this.repo(manager).find({ where: { organisationId } });
  }

  /** True when a row was deleted. The caller has already checked the tenant. */
  async deleteById(id: string, manager?: EntityManager): Promise<boolean> {
    const result = await this.repo(manager).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  all(): Promise<ProviderModelEntity[]> {
    return this.rows.find({ order: PAGE_ORDER });
  }
}
