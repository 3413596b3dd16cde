import { Injectable } from '@nestjs/common';
import type { TenantScope } from '#libs/contracts';
import { tenantWhere } from '#libs/db';
import { DataSource, IsNull, type EntityManager, type Repository } from 'typeorm';
import { ApiKeyEntity } from './api-key.entity.js';

@Injectable()
export class ApiKeysRepository {
  private readonly repo: Repository<ApiKeyEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(ApiKeyEntity);
  }

  list(scope: TenantScope, limit: number, after?: { createdAt: Date; id: string }): Promise<ApiKeyEntity[]> {
    const qb = this.repo
      .createQueryBuilder('k')
      .where('k.organisation_id = :org', { org: scope.organisationId })
      .orderBy('k.created_at', 'ASC')
      .addOrderBy('k.id', 'ASC')
      .take(limit);
    if (scope.projectId !== null) qb.andWhere('(k.project_id = :project OR k.project_id IS NULL)', { project: scope.projectId });
    if (after) qb.andWhere('(k.created_at, k.id) > (:at, :id)', { at: after.createdAt, id: after.id });
    return qb.getMany();
  }

  findInScope(scope: TenantScope, id: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOne({ where: tenantWhere<ApiKeyEntity>(scope, { id }) });
  }

  findById(id: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  /** Every active key of every organisation: the read model's start. */
  allActive(): Promise<ApiKeyEntity[]> {
    return this.repo.find({ where: { revokedAt: IsNull() } });
  }

  async insert(key: ApiKeyEntity, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.getRepository(ApiKeyEntity).insert(key);
  }

  async revoke(scope: TenantScope, id: string): Promise<ApiKeyEntity | null> {
    const found = await this.findInScope(scope, id);
    if (!found) return null;
    if (!found.revokedAt) {
      found.revokedAt = new Date();
      await this.repo.update({ id, organisationId: scope.organisationId }, { revokedAt: found.revokedAt });
    }
    return found;
  }

  /**
   * Runs `fn` holding a transaction-scoped advisory lock, so two replicas starting at once do not
   * both create the bootstrap admin key.
   */
  withBootstrapLock<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('gateway.bootstrap-admin-key'))`);
      return fn(manager);
    });
  }

  async hasActiveAdmin(organisationId: string, manager: EntityManager): Promise<boolean> {
    return (await manager.getRepository(ApiKeyEntity).count({ where: { organisationId, role: 'admin', revokedAt: IsNull() } })) > 0;
  }
}
