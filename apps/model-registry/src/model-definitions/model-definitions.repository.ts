import { Injectable } from '@nestjs/common';
import type { TenantScope } from '#libs/contracts';
import { tenantWhere } from '#libs/db';
import { DataSource, In, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { PAGE_ORDER, pageWhere, type PageRequest } from '../common/page-request.js';
import { ModelDefinitionEntity } from './model-definition.entity.js';
import { ModelPriceEntity } from './model-price.entity.js';

/** Definitions with the prices of exactly those definitions, read from one snapshot. */
export interface DefinitionsWithPrices {
  definitions: ModelDefinitionEntity[];
  prices: ModelPriceEntity[];
}

/** Every read a caller makes goes through tenantWhere; only `all` (the read models' load) crosses tenants. */
@Injectable()
export class ModelDefinitionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The definition and its first price version in one transaction; 'name-taken' when the
   * organisation already has a definition of that name (the unique index decides, ON CONFLICT DO
   * NOTHING, so racing creates cannot both win and the conflict is not logged as a failed query).
   */
  insertWithPrices(definition: ModelDefinitionEntity, prices: ModelPriceEntity[]): Promise<'inserted' | 'name-taken'> {
    return this.dataSource.transaction(async (tx) => {
      const inserted = await tx.createQueryBuilder().insert().into(ModelDefinitionEntity).values(definition).orIgnore().returning('id').execute();
      if ((inserted.raw as unknown[]).length === 0) return 'name-taken';
      await tx.getRepository(ModelPriceEntity).insert(prices);
      return 'inserted';
    });
  }

  findById(scope: TenantScope, id: string): Promise<ModelDefinitionEntity | null> {
    return this.dataSource.getRepository(ModelDefinitionEntity).findOne({ where: tenantWhere<ModelDefinitionEntity>(scope, { id }) });
  }

  async findByIdWithPrices(scope: TenantScope, id: string): Promise<DefinitionsWithPrices> {
    return this.withPrices({ where: tenantWhere<ModelDefinitionEntity>(scope, { id }), take: 1 });
  }

  /** One more row than the limit, so the caller knows whether another page follows. */
  page(scope: TenantScope, page: PageRequest): Promise<DefinitionsWithPrices> {
    return this.withPrices({ where: pageWhere<ModelDefinitionEntity>(scope, page.after), take: page.limit + 1 });
  }

  /** Every organisation's definitions: for the read models of the gateway and of usage-metering. */
  all(): Promise<DefinitionsWithPrices> {
    return this.withPrices({});
  }

  /** True when a row was deleted; its prices go with it (ON DELETE CASCADE). */
  /**
   * The definition with this id in the caller's organisation, whatever its project: the service
   * applies the ownership rule itself, so the audit log can tell a refusal from an unknown id.
   */
  findInOrganisation(scope: TenantScope, id: string): Promise<ModelDefinitionEntity | null> {
    return this.dataSource.getRepository(ModelDefinitionEntity).findOne({ where: { id, organisationId: scope.organisationId } });
  }

  async deleteById(id: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    const result = await manager.getRepository(ModelDefinitionEntity).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /** Two queries in one REPEATABLE READ snapshot, so a definition is never seen without its prices. */
  private withPrices(query: { where?: FindOptionsWhere<ModelDefinitionEntity>[]; take?: number }): Promise<DefinitionsWithPrices> {
    return this.dataSource.transaction('REPEATABLE READ', async (tx: EntityManager) => {
      const definitions = await tx.getRepository(ModelDefinitionEntity).find({ ...query, order: PAGE_ORDER });
      const prices =
        definitions.length === 0
          ? []
          : await tx.getRepository(ModelPriceEntity).find({
              where: query.where === undefined ? {} : { definitionId: In(definitions.map((d) => d.id)) },
              order: { effectiveFrom: 'ASC', usageType: 'ASC' },
            });
      return { definitions, prices };
    });
  }
}
