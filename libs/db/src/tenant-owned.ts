import type { TenantScope } from '#libs/contracts';
import { readableProjects, SHARED_WITH_PROJECTS, type Owned, type Sharing } from '#libs/tenancy';
import { In, IsNull, type FindOptionsWhere, type ObjectLiteral } from 'typeorm';

/** Columns every owned row carries (DESIGN.md, data rules). */
export type TenantOwned = Owned;

/**
 * The WHERE clause that limits a query to what a scope may read (the ownership rule in
 * libs/tenancy): its organisation, and for a project-scoped caller that project's rows plus,
 * for kinds shared with projects, the organisation-wide ones. Repositories build every query
 * from this, so none can forget the tenant.
 */
export function tenantWhere<E extends ObjectLiteral & TenantOwned>(
  scope: TenantScope,
  extra: FindOptionsWhere<E> = {},
  sharing: Sharing = SHARED_WITH_PROJECTS,
): FindOptionsWhere<E>[] {
  const org = { ...extra, organisationId: scope.organisationId } as FindOptionsWhere<E>;
  const projects = readableProjects(scope, sharing);
  if (projects === 'any') return [org];
  const named = projects.filter((p): p is string => p !== null);
  const where: FindOptionsWhere<E>[] = [];
  if (named.length > 0) where.push({ ...org, projectId: named.length === 1 ? named[0] : In(named) } as FindOptionsWhere<E>);
  if (projects.includes(null)) where.push({ ...org, projectId: IsNull() } as FindOptionsWhere<E>);
  return where;
}
