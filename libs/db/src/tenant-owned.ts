import type { TenantScope } from '#libs/contracts';
import { IsNull, type FindOptionsWhere, type ObjectLiteral } from 'typeorm';

/** Columns every owned row carries (DESIGN.md, data rules). */
export interface TenantOwned {
  organisationId: string;
  projectId: string | null;
}

/**
 * The WHERE clause that limits a query to what a scope may see: its organisation, and when the
 * scope is a project, that project's rows plus the organisation-wide ones. Repositories build every
 * query from this, so none can forget the tenant.
 */
export function tenantWhere<E extends ObjectLiteral & TenantOwned>(scope: TenantScope, extra: FindOptionsWhere<E> = {}): FindOptionsWhere<E>[] {
  const org = { ...extra, organisationId: scope.organisationId } as FindOptionsWhere<E>;
  if (scope.projectId === null) return [org];
  return [
    { ...org, projectId: scope.projectId } as FindOptionsWhere<E>,
    { ...org, projectId: IsNull() } as FindOptionsWhere<E>,
  ];
}
