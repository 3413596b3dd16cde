import { Injectable } from '@nestjs/common';
import { SYSTEM_ORGANISATION_ID, type DefinitionListSource, type TenantScope } from '#libs/contracts';
import { tenantWhere } from '#libs/db';
import { DataSource, In, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { PAGE_ORDER, pageWhere, type PageRequest } from '../common/page-request.js';
import type { DefinitionRows } from './model-definition-view.js';
import { ModelDefinitionEntity } from './model-definition.entity.js';
import { ModelPriceTierEntity } from './model-price-tier.entity.js';
import { ModelPriceEntity } from './model-price.entity.js';

/** A price version's rows: its tiers and their prices. */
export interface VersionRows {
  tiers: ModelPriceTierEntity[];
  prices: ModelPriceEntity[];
}

/** The System definitions' scope: the built-in catalogue, read by every organisation. */
const SYSTEM_SCOPE: TenantScope = { organisationId: SYSTEM_ORGANISATION_ID, projectId: null };

/**
 * Every read a caller makes goes through tenantWhere (plus, where a caller may see them, the System
 * definitions, which belong to no organisation); only `all` (the read models' load) crosses tenants.
 */
@Injectable()
export class ModelDefinitionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The definition and its first price version in one transaction; 'name-taken' when the
   * organisation already has a definition of that name (the unique index decides, ON CONFLICT DO
   * NOTHING, so racing creates cannot both win and the conflict is not logged as a failed query).
   */
  insertWithPrices(definition: ModelDefinitionEntity, version: VersionRows, manager?: EntityManager): Promise<'inserted' | 'name-taken'> {
    const run = async (tx: EntityManager) => {
      const inserted = await tx.createQueryBuilder().insert().into(ModelDefinitionEntity).values(definition).orIgnore().returning('id').execute();
      if ((inserted.raw as unknown[]).length === 0) return 'name-taken' as const;
      await this.insertVersionRows(tx, version);
      return 'inserted' as const;
    };
    return manager ? run(manager) : this.dataSource.transaction(run);
  }

  /**
   * Adds a price version; 'version-exists' when the definition already has one at that instant
   * (the primary key decides: a version is never rewritten).
   */
  async insertVersion(version: VersionRows, manager: EntityManager): Promise<'inserted' | 'version-exists'> {
    const inserted = await manager.createQueryBuilder().insert().into(ModelPriceTierEntity).values(version.tiers).orIgnore().returning('name').execute();
    if ((inserted.raw as unknown[]).length < version.tiers.length) return 'version-exists';
    await manager.getRepository(ModelPriceEntity).insert(version.prices);
    return 'inserted';
  }

  /** The latest effectiveFrom of the definition's versions, or null when it has none. */
  async latestVersionAt(definitionId: string, manager: EntityManager): Promise<Date | null> {
    const row = await manager
      .getRepository(ModelPriceTierEntity)
      .createQueryBuilder('t')
      .select('max(t.effective_from)', 'latest')
      .where('t.definition_id = :definitionId', { definitionId })
      .getRawOne<{ latest: Date | null }>();
    return row?.latest ? new Date(row.latest) : null;
  }

  /** Saves the definition's own fields (name, pattern, tokenizer, priority, updatedAt); 'name-taken' on the unique name. */
  async update(definition: ModelDefinitionEntity, manager: EntityManager): Promise<'updated' | 'name-taken'> {
    const clash = await manager
      .getRepository(ModelDefinitionEntity)
      .createQueryBuilder('d')
      .where('d.organisation_id = :org AND d.name = :name AND d.id <> :id', { org: definition.organisationId, name: definition.name, id: definition.id })
      .getExists();
    if (clash) return 'name-taken';
    await manager.getRepository(ModelDefinitionEntity).update(
      { id: definition.id },
      { name: definition.name, matchPattern: definition.matchPattern, tokenizer: definition.tokenizer, priority: definition.priority, updatedAt: definition.updatedAt },
    );
    return 'updated';
  }

  /** The definition with this id the caller may read: its own (tenantWhere) or a System one. */
  async findVisibleWithPrices(scope: TenantScope, id: string): Promise<DefinitionRows> {
    return this.withPrices({ where: [...tenantWhere<ModelDefinitionEntity>(scope, { id }), ...tenantWhere<ModelDefinitionEntity>(SYSTEM_SCOPE, { id })], take: 1 });
  }

  /** One more row than the limit, so the caller knows whether another page follows. */
  page(scope: TenantScope, page: PageRequest, source: DefinitionListSource): Promise<DefinitionRows> {
    const where = [
      ...(source === 'system' ? [] : pageWhere<ModelDefinitionEntity>(scope, page.after)),
      ...(source === 'user' ? [] : pageWhere<ModelDefinitionEntity>(SYSTEM_SCOPE, page.after)),
    ];
    return this.withPrices({ where, take: page.limit + 1 });
  }

  /** Every organisation's definitions and the System ones: for the read models of the gateway and of usage-metering. */
  all(): Promise<DefinitionRows> {
    return this.withPrices({});
  }

  /** Every definition without its prices: what the gateway needs to pick a model's tokenizer. */
  allWithoutPrices(): Promise<ModelDefinitionEntity[]> {
    return this.dataSource.getRepository(ModelDefinitionEntity).find({ select: { id: true, organisationId: true, projectId: true, matchPattern: true, tokenizer: true, source: true, priority: true, updatedAt: true } });
  }

  /** The System definitions with their prices, by catalogue key: what the catalogue loader compares the data file with. */
  systemDefinitions(manager: EntityManager): Promise<DefinitionRows> {
    return this.withPrices({ where: tenantWhere<ModelDefinitionEntity>(SYSTEM_SCOPE) }, manager);
  }

  /**
   * The definition with this id in the caller's organisation, whatever its project, or a System
   * one: the service applies the ownership rule itself, so the audit log can tell a refusal from an
   * unknown id.
   */
  findInOrganisation(scope: TenantScope, id: string, manager: EntityManager = this.dataSource.manager): Promise<ModelDefinitionEntity | null> {
    return manager.getRepository(ModelDefinitionEntity).findOne({ where: [{ id, organisationId: scope.organisationId }, { id, organisationId: SYSTEM_ORGANISATION_ID }] });
  }

  /** True when a row was deleted; its tiers and prices go with it (ON DELETE CASCADE). */
  async deleteById(id: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    const result = await manager.getRepository(ModelDefinitionEntity).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  private async insertVersionRows(tx: EntityManager, version: VersionRows): Promise<void> {
    await tx.getRepository(ModelPriceTierEntity).insert(version.tiers);
    await tx.getRepository(ModelPriceEntity).insert(version.prices);
  }

  /** Three queries in one REPEATABLE READ snapshot, so a definition is never seen without its tiers and prices. */
  private withPrices(query: { where?: FindOptionsWhere<ModelDefinitionEntity>[]; take?: number }, manager?: EntityManager): Promise<DefinitionRows> {
    const run = async (tx: EntityManager): Promise<DefinitionRows> => {
      const definitions = await tx.getRepository(ModelDefinitionEntity).find({ ...query, order: PAGE_ORDER });
      if (definitions.length === 0) return { definitions, tiers: [], prices: [] };
      const byDefinition = query.where === undefined ? {} : { definitionId: In(definitions.map((d) => d.id)) };
      const tiers = await tx.getRepository(ModelPriceTierEntity).find({ where: byDefinition, order: { effectiveFrom: 'ASC', priority: 'ASC' } });
      const prices = await tx.getRepository(ModelPriceEntity).find({ where: byDefinition, order: { effectiveFrom: 'ASC', usageType: 'ASC' } });
      return { definitions, tiers, prices };
    };
    return manager ? run(manager) : this.dataSource.transaction('REPEATABLE READ', run);
  }
}
