import type { TenantScope } from '#libs/contracts';
import type { DataSource } from 'typeorm';
import type { CreatedCursor } from './page-cursor.js';

/**
 * The WHERE fragment limiting a table to what a scope may read: its organisation, and for a
 * project-scoped admin only that project's rows (datasets and runs are private to a project, as
 * gateway keys are; libs/tenancy PRIVATE_TO_PROJECT). `params` gets the values appended.
 */
export function scopeClause(scope: TenantScope, params: unknown[], alias = ''): string {
  const col = (c: string) => (alias ? `${alias}.${c}` : c);
  params.push(scope.organisationId);
  let sql = `${col('organisation_id')} = $${params.length}`;
  if (scope.projectId !== null) {
    params.push(scope.projectId);
    sql += ` AND ${col('project_id')} = $${params.length}`;
  }
  return sql;
}

/** A page of a tenant's rows of `table` in creation order, after `after` (datasets, runs). */
export async function scopedPage<T>(dataSource: DataSource, table: string, scope: TenantScope, limit: number, after?: CreatedCursor, order: 'ASC' | 'DESC' = 'ASC'): Promise<T[]> {
  const params: unknown[] = [];
  let where = scopeClause(scope, params);
  if (after) {
    params.push(after.createdAt, after.id);
    where += ` AND (created_at, id) ${order === 'ASC' ? '>' : '<'} ($${params.length - 1}, $${params.length})`;
  }
  params.push(limit);
  return (await dataSource.query(`SELECT * FROM ${table} WHERE ${where} ORDER BY created_at ${order}, id ${order} LIMIT $${params.length}`, params)) as T[];
}
