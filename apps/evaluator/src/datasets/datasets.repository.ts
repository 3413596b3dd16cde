import { Injectable } from '@nestjs/common';
import type { DatasetRowDto, TenantScope } from '#libs/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import type { CreatedCursor } from '../common/page-cursor.js';
import { scopeClause, scopedPage } from '../common/tenant-sql.js';

export interface DatasetRow {
  id: string;
  organisation_id: string;
  project_id: string | null;
  name: string;
  description: string | null;
  version: number;
  row_count: number;
  created_at: Date;
  updated_at: Date;
}

export interface StoredRow {
  row_index: number;
  version: number;
  input: unknown;
  expected: unknown;
  metadata: Record<string, unknown>;
}

/** Rows are inserted in slices of this many (one INSERT each), so a large upload is a few statements. */
const INSERT_SLICE = 500;

/** Datasets and their rows, always within a tenant scope. Rows are append-only: a version is a prefix by version number. */
@Injectable()
export class DatasetsRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  async insert(d: Pick<DatasetRow, 'id' | 'organisation_id' | 'project_id' | 'name' | 'description'>, manager: EntityManager): Promise<void> {
    await manager.query(`INSERT INTO datasets (id, organisation_id, project_id, name, description) VALUES ($1, $2, $3, $4, $5)`, [
      d.id,
      d.organisation_id,
      d.project_id,
      d.name,
      d.description,
    ]);
  }

  async find(scope: TenantScope, id: string, manager?: EntityManager, forUpdate = false): Promise<DatasetRow | undefined> {
    const params: unknown[] = [id];
    const rows = (await (manager ?? this.dataSource).query(
      `SELECT * FROM datasets WHERE id = $1 AND ${scopeClause(scope, params)}${forUpdate ? ' FOR UPDATE' : ''}`,
      params,
    )) as DatasetRow[];
    return rows[0];
  }

  list(scope: TenantScope, limit: number, after?: CreatedCursor): Promise<DatasetRow[]> {
    return scopedPage<DatasetRow>(this.dataSource, 'datasets', scope, limit, after);
  }

  /** Appends rows as the dataset's next version (the caller holds the dataset row locked). */
  async appendVersion(dataset: DatasetRow, rows: DatasetRowDto[], manager: EntityManager): Promise<DatasetRow> {
    const version = dataset.version + 1;
    for (let start = 0; start < rows.length; start += INSERT_SLICE) {
      const slice = rows.slice(start, start + INSERT_SLICE);
      const params: unknown[] = [dataset.id, version];
      const values = slice.map((r, i) => {
        params.push(dataset.row_count + start + i + 1, JSON.stringify(r.input), r.expected === undefined ? null : JSON.stringify(r.expected), JSON.stringify(r.metadata ?? {}));
        const n = params.length;
        return `($1, $${n - 3}, $2, $${n - 2}::jsonb, $${n - 1}::jsonb, $${n}::jsonb)`;
      });
      await manager.query(`INSERT INTO dataset_rows (dataset_id, row_index, version, input, expected, metadata) VALUES ${values.join(', ')}`, params);
    }
    const updated = (await manager.query(
      `UPDATE datasets SET version = $2, row_count = row_count + $3, updated_at = now() WHERE id = $1 RETURNING *`,
      [dataset.id, version, rows.length],
    )) as [DatasetRow[], number];
    return updated[0][0]!;
  }

  /** Rows of `version` after `afterIndex`, in order: runs and listings page through a dataset with this, never loading it whole. */
  async rowsPage(datasetId: string, version: number, afterIndex: number, limit: number): Promise<StoredRow[]> {
    return (await this.dataSource.query(
      `SELECT row_index, version, input, expected, metadata FROM dataset_rows
        WHERE dataset_id = $1 AND version <= $2 AND row_index > $3 ORDER BY row_index LIMIT $4`,
      [datasetId, version, afterIndex, limit],
    )) as StoredRow[];
  }

  async countRows(datasetId: string, version: number): Promise<number> {
    const rows = (await this.dataSource.query(`SELECT count(*)::int AS n FROM dataset_rows WHERE dataset_id = $1 AND version <= $2`, [datasetId, version])) as { n: number }[];
    return rows[0]!.n;
  }
}
