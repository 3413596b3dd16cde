import { AppError, ErrorCode, type TenantScope } from '#libs/contracts';
import type { TenantOwned } from '#libs/db';

/**
 * The tenant a new row belongs to. An organisation-wide caller may put it in any project (or none);
 * a project-scoped caller creates rows in its own project only.
 */
export function ownerOfNewRow(scope: TenantScope, requestedProjectId: string | undefined): TenantScope {
  if (scope.projectId === null) return { organisationId: scope.organisationId, projectId: requestedProjectId ?? null };
  if (requestedProjectId !== undefined && requestedProjectId !== scope.projectId) {
    throw new AppError(ErrorCode.Forbidden, `a key scoped to project ${scope.projectId} cannot create rows in project ${requestedProjectId}`);
  }
  return { organisationId: scope.organisationId, projectId: scope.projectId };
}

/**
 * A project-scoped caller sees the organisation-wide rows too (tenantWhere), but may change only
 * its own project's rows.
 */
export function assertMayChange(scope: TenantScope, row: TenantOwned, what: string): void {
  if (scope.projectId !== null && row.projectId !== scope.projectId) {
    throw new AppError(ErrorCode.Forbidden, `${what} is organisation-wide; a key scoped to project ${scope.projectId} cannot change it`);
  }
}
