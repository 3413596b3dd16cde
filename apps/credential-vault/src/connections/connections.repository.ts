import { Injectable } from '@nestjs/common';
import type { ConnectionStatus, TenantScope } from '#libs/contracts';
import { tenantWhere } from '#libs/db';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { ConnectionEntity } from './connection.entity.js';

export interface ListPosition {
  createdAt: Date;
  id: string;
}

/** What re-wrapping needs of a row: which master key wraps its data key, and whose it is. */
export interface WrappedKeyRow {
  id: string;
  organisationId: string;
  wrappedDataKey: Buffer;
  masterKeyId: string;
}

export interface RewrappedKey {
  wrappedDataKey: Buffer;
  masterKeyId: string;
}

const ROTATION_LOCK = 'vault.master-key-rotation';
const IMPORT_LOCK = 'vault.config-import';

/** Every scoped query starts from tenantWhere, so none can reach another organisation's rows. */
@Injectable()
export class ConnectionsRepository {
  private readonly repo: Repository<ConnectionEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(ConnectionEntity);
  }

  /**
   * A page in (created_at, id) order, after `after` when given, of one status when given. A
   * connection reading a secret from one of `unsetVariables` counts as error (unless inactive),
   * as its view shows it.
   */
  list(scope: TenantScope, limit: number, after?: ListPosition, status?: ConnectionStatus, unsetVariables: string[] = []): Promise<ConnectionEntity[]> {
    const qb = this.repo
      .createQueryBuilder('c')
      .where(tenantWhere<ConnectionEntity>(scope))
      .orderBy('c.created_at', 'ASC')
      .addOrderBy('c.id', 'ASC')
      .take(limit);
    if (after) qb.andWhere('(c.created_at, c.id) > (:at, :id)', { at: after.createdAt, id: after.id });
    const readsUnset = `EXISTS (SELECT 1 FROM jsonb_each_text(c.secret_env_vars) v WHERE v.value = ANY(:unset))`;
    if (status === 'error') qb.andWhere(`(c.status = 'error' OR (c.status <> 'inactive' AND ${readsUnset}))`, { unset: unsetVariables });
    else if (status === 'active') qb.andWhere(`c.status = 'active' AND NOT ${readsUnset}`, { unset: unsetVariables });
    else if (status) qb.andWhere('c.status = :status', { status });
    return qb.getMany();
  }

  /** Every environment variable some connection of the organisation reads a secret from. */
  async environmentVariables(organisationId: string): Promise<string[]> {
    const rows: { name: string }[] = await this.dataSource.query(
      `SELECT DISTINCT v.value AS name FROM connections c, jsonb_each_text(c.secret_env_vars) v WHERE c.organisation_id = $1`,
      [organisationId],
    );
    return rows.map((r) => r.name);
  }

  findInScope(scope: TenantScope, id: string, manager: EntityManager = this.dataSource.manager): Promise<ConnectionEntity | null> {
    return manager.getRepository(ConnectionEntity).findOne({ where: tenantWhere<ConnectionEntity>(scope, { id }) });
  }

  /**
   * The row with this id in the caller's organisation, whatever its project, held until the
   * transaction ends: `share` for a reveal, `update` for a delete, so a reveal racing a delete
   * sees the row whole or not at all. Not narrowed to the caller's project: the service applies
   * the ownership rule (libs/tenancy) itself, so that a refusal can be told apart from an unknown
   * id in the audit log (both answer not_found or forbidden alike to the caller).
   */
  lockInOrganisation(scope: TenantScope, id: string, manager: EntityManager, mode: 'share' | 'update'): Promise<ConnectionEntity | null> {
    return manager.getRepository(ConnectionEntity).findOne({
      where: { id, organisationId: scope.organisationId },
      lock: { mode: mode === 'share' ? 'pessimistic_read' : 'pessimistic_write' },
    });
  }

  /**
   * Inserts; returns 'duplicate' when the organisation already has a connection of that name or slug.
   * ON CONFLICT rather than catching the unique violation: a failed INSERT would be logged with its
   * parameters, and a duplicate name is an ordinary answer, not a database error.
   */
  async insert(connection: ConnectionEntity, manager: EntityManager): Promise<'inserted' | 'duplicate'> {
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(ConnectionEntity)
      .values(connection)
      .orIgnore() // ON CONFLICT DO NOTHING: the other unique key is a random 128-bit id
      .execute();
    return (result.raw as unknown[]).length === 0 ? 'duplicate' : 'inserted';
  }

  /**
   * Which unique key a skipped insert or a change would break, if any: another row of the
   * organisation (not `exceptId`) with the same name or slug.
   */
  async clashOf(row: Pick<ConnectionEntity, 'organisationId' | 'name' | 'slug'>, manager: EntityManager, exceptId = ''): Promise<'name' | 'slug' | null> {
    const found: { name: string; slug: string }[] = await manager.query(
      `SELECT name, slug FROM connections WHERE organisation_id = $1 AND (name = $2 OR slug = $3) AND id <> $4`,
      [row.organisationId, row.name, row.slug, exceptId],
    );
    if (found.some((r) => r.name === row.name)) return 'name';
    return found.length > 0 ? 'slug' : null;
  }

  /** The slugs of the organisation that are `base` or `base-<anything>`: to number a default slug past them. */
  async slugsLike(organisationId: string, base: string, manager: EntityManager): Promise<Set<string>> {
    const rows: { slug: string }[] = await manager.query(`SELECT slug FROM connections WHERE organisation_id = $1 AND (slug = $2 OR starts_with(slug, $3))`, [
      organisationId,
      base,
      `${base}-`,
    ]);
    return new Set(rows.map((r) => r.slug));
  }

  /** Writes a changed row back; the caller holds its lock and has checked its name and slug with clashOf. */
  async update(row: ConnectionEntity, manager: EntityManager): Promise<void> {
    await manager.getRepository(ConnectionEntity).update(
      { id: row.id, organisationId: row.organisationId },
      {
        projectId: row.projectId,
        name: row.name,
        slug: row.slug,
        baseUrl: row.baseUrl,
        secretCiphertext: row.secretCiphertext,
        wrappedDataKey: row.wrappedDataKey,
        masterKeyId: row.masterKeyId,
        apiKeyLast4: row.apiKeyLast4,
        headerNames: row.headerNames,
        headerValueLast4: row.headerValueLast4,
        settings: row.settings,
        secretEnvVars: row.secretEnvVars,
        managedBy: row.managedBy,
        secretLast4: row.secretLast4,
        status: row.status,
        lastError: row.lastError,
        lastErrorAt: row.lastErrorAt,
        updatedAt: row.updatedAt,
      },
    );
  }

  /** The organisation's connection of that name (the configuration import's key), if any. */
  findByName(organisationId: string, name: string, manager: EntityManager = this.dataSource.manager): Promise<ConnectionEntity | null> {
    return manager.getRepository(ConnectionEntity).findOne({ where: { organisationId, name } });
  }

  /** Every connection of one organisation, oldest first (the configuration export). */
  allOfOrganisation(organisationId: string): Promise<ConnectionEntity[]> {
    return this.repo.find({ where: { organisationId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async delete(connection: Pick<ConnectionEntity, 'id' | 'organisationId'>, manager: EntityManager): Promise<void> {
    await manager.getRepository(ConnectionEntity).delete({ id: connection.id, organisationId: connection.organisationId });
  }

  /** Every connection of every organisation: only for the gateway's read model, never for an admin. */
  all(): Promise<ConnectionEntity[]> {
    return this.repo.find({ order: { organisationId: 'ASC', createdAt: 'ASC', id: 'ASC' } });
  }

  /** Up to `limit` connections of every organisation with an id after `after`, in id order (the read model's paged load). */
  pageAfter(after: string, limit: number): Promise<ConnectionEntity[]> {
    return this.repo.createQueryBuilder('c').where('c.id > :after', { after }).orderBy('c.id', 'ASC').take(limit).getMany();
  }

  async countByMasterKeyId(): Promise<Map<string, number>> {
    const rows: { master_key_id: string; count: string }[] = await this.dataSource.query(
      `SELECT master_key_id, count(*) AS count FROM connections GROUP BY master_key_id`,
    );
    return new Map(rows.map((r) => [r.master_key_id, Number(r.count)]));
  }

  /**
   * Runs `work` while holding a session advisory lock, so when several replicas start at once
   * only one re-wraps. Returns false without running `work` when another replica holds it.
   */
  withRotationLock(work: (manager: EntityManager) => Promise<void>): Promise<boolean> {
    return this.withAdvisoryLock(ROTATION_LOCK, work);
  }

  /** Runs `work` while holding the configuration import's lock (replicas starting together import once); false when another holds it. */
  withImportLock(work: () => Promise<void>): Promise<boolean> {
    return this.withAdvisoryLock(IMPORT_LOCK, () => work());
  }

  private async withAdvisoryLock(name: string, work: (manager: EntityManager) => Promise<void>): Promise<boolean> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [name])) as { locked: boolean }[];
      if (!locked) return false;
      try {
        await work(runner.manager);
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [name]);
      }
      return true;
    } finally {
      await runner.release();
    }
  }

  /**
   * One batch of re-wrapping in its own transaction: locks up to `limit` rows wrapped by one of
   * `masterKeyIds` with an id after `afterId`, stores what `rewrap` returns for each (a row it
   * returns null for is left as it is). Leaves updated_at alone: the connection did not change.
   */
  rewrapBatch(
    manager: EntityManager,
    batch: { masterKeyIds: string[]; afterId: string; limit: number },
    rewrap: (row: WrappedKeyRow) => RewrappedKey | null,
  ): Promise<{ lastId: string | null; rewrapped: WrappedKeyRow[] }> {
    return manager.transaction(async (tx) => {
      const rows: WrappedKeyRow[] = (
        await tx.query(
          `SELECT id, organisation_id, wrapped_data_key, master_key_id FROM connections
            WHERE master_key_id = ANY($1) AND id > $2 ORDER BY id LIMIT $3 FOR UPDATE`,
          [batch.masterKeyIds, batch.afterId, batch.limit],
        )
      ).map((r: { id: string; organisation_id: string; wrapped_data_key: Buffer; master_key_id: string }) => ({
        id: r.id,
        organisationId: r.organisation_id,
        wrappedDataKey: r.wrapped_data_key,
        masterKeyId: r.master_key_id,
      }));
      const rewrapped: WrappedKeyRow[] = [];
      for (const row of rows) {
        const next = rewrap(row);
        if (!next) continue;
        await tx.query(`UPDATE connections SET wrapped_data_key = $1, master_key_id = $2 WHERE id = $3 AND master_key_id = $4`, [
          next.wrappedDataKey,
          next.masterKeyId,
          row.id,
          row.masterKeyId,
        ]);
        rewrapped.push(row);
      }
      return { lastId: rows.at(-1)?.id ?? null, rewrapped };
    });
  }
}
