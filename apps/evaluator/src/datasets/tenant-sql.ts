import type { TenantScope } from '#libs/contracts';

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
