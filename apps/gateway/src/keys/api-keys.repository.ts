import { Injectable } from '@nestjs/common';
import type { TenantScope } from '#libs/contracts';
import { tenantWhere } from '#libs/db';
import { PRIVATE_TO_PROJECT } from '#libs/tenancy';
import { DataSource, IsNull, type EntityManager, type Repository } from 'typeorm';
import { ApiKeyEntity } from './api-key.entity.js';

@Injectable()
export class ApiKeysRepository {
  private readonly repo: Repository<ApiKeyEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(ApiKeyEntity);
  }

  /**
   * Gateway keys are private to their project (libs/tenancy PRIVATE_TO_PROJECT): a project admin
   * lists its project's keys, not the organisation-wide ones (other principals' credentials).
   */
  list(scope: TenantScope, limit: number, after?: { createdAt: Date; id: string }): Promise<ApiKeyEntity[]> {
    const qb = this.repo
      .createQueryBuilder('k')
      .where(tenantWhere<ApiKeyEntity>(scope, {}, PRIVATE_TO_PROJECT))
      .orderBy('k.created_at', 'ASC')
      .addOrderBy('k.id', 'ASC')
      .take(limit);
    if (after) qb.andWhere('(k.created_at, k.id) > (:at, :id)', { at: after.createdAt, id: after.id });
    return qb.getMany();
  }

  findInScope(scope: TenantScope, id: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOne({ where: tenantWhere<ApiKeyEntity>(scope, { id }, PRIVATE_TO_PROJECT) });
  }

  /**
   * The key with this id in the caller's organisation, whatever its project: the service applies
   * the ownership rule itself, so the audit log can tell a refusal from an unknown id.
   */
  findInOrganisation(scope: TenantScope, id: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOne({ where: { id, organisationId: scope.organisationId } });
  }

  /** Any key by id, for the read model's change events only (never for an admin). */
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

  /** Marks the key revoked (once; a second revoke keeps the first time). */
  async revoke(key: ApiKeyEntity, at: Date, manager: EntityManager): Promise<void> {
    if (key.revokedAt) return;
    key.revokedAt = at;
    await manager.getRepository(ApiKeyEntity).update({ id: key.id, organisationId: key.organisationId }, { revokedAt: at });
  }

  /** Writes the edited fields of a key. */
  async update(key: ApiKeyEntity, changes: Partial<ApiKeyEntity>, manager: EntityManager): Promise<void> {
    if (Object.keys(changes).length === 0) return;
    await manager.getRepository(ApiKeyEntity).update({ id: key.id, organisationId: key.organisationId }, changes as never);
  }

  /** Runs `fn` in one transaction: a key change and its audit entry commit together. */
  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
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
