import { AppError, ErrorCode, type TenantScope } from '#libs/contracts';

/**
 * The one ownership rule of the product (issue 11). Every row an admin owns carries an
 * organisation and an optional project (null = organisation-wide). A caller acts for a scope:
 *
 * - an organisation-wide caller (projectId null) may create, read, change, delete and reveal any
 *   row of its organisation, in any project or none;
 * - a project-scoped caller may create rows only in its own project, and change, delete or reveal
 *   only its own project's rows;
 * - whether a project-scoped caller may *read* organisation-wide rows depends on the kind of row
 *   (`Sharing`): connections, provider models and model definitions are shared resources a
 *   project's traffic uses, so it sees them; gateway keys are other principals' credentials, so
 *   it does not.
 * - nobody sees or touches another organisation's rows.
 *
 * A project-scoped caller may NOT reveal an organisation-wide connection: seeing that it exists
 * (so its models can route to it) is not the same as holding its secret, and a reveal would
 * hand a project the credential every other project shares.
 */
export interface Owned {
  organisationId: string;
  projectId: string | null;
}

export type Sharing = 'organisation-wide-rows-shared' | 'project-rows-only';

/** Connections, provider models, model definitions. */
export const SHARED_WITH_PROJECTS: Sharing = 'organisation-wide-rows-shared';
/** Gateway keys. */
export const PRIVATE_TO_PROJECT: Sharing = 'project-rows-only';

/**
 * The projects whose rows a scope may read inside its organisation: 'any' for an organisation-wide
 * caller, else its project (and null, the organisation-wide rows, when the kind is shared).
 * Repositories build their WHERE from this (libs/db tenantWhere).
 */
export function readableProjects(scope: TenantScope, sharing: Sharing = SHARED_WITH_PROJECTS): 'any' | (string | null)[] {
  if (scope.projectId === null) return 'any';
  return sharing === SHARED_WITH_PROJECTS ? [scope.projectId, null] : [scope.projectId];
}

export function mayRead(scope: TenantScope, row: Owned, sharing: Sharing = SHARED_WITH_PROJECTS): boolean {
  if (row.organisationId !== scope.organisationId) return false;
  const projects = readableProjects(scope, sharing);
  return projects === 'any' || projects.includes(row.projectId);
}

/** Change, delete, revoke and reveal all follow this: the row must be in the caller's own reach. */
export function mayChange(scope: TenantScope, row: Owned): boolean {
  return row.organisationId === scope.organisationId && (scope.projectId === null || row.projectId === scope.projectId);
}

/** A refusal by the ownership rule: `forbidden` on the wire, its message is the audit reason. */
export class AccessDenied extends AppError {
  constructor(message: string) {
    super(ErrorCode.Forbidden, message);
  }
}

/** Why `scope` may not change `row`, or null when it may. */
export function changeRefusal(scope: TenantScope, row: Owned, what: string): string | null {
  if (mayChange(scope, row)) return null;
  if (row.organisationId !== scope.organisationId) return `${what} belongs to another organisation`;
  return row.projectId === null
    ? `${what} is organisation-wide; a key scoped to project ${scope.projectId} cannot change it`
    : `${what} belongs to project ${row.projectId}; a key scoped to project ${scope.projectId} cannot change it`;
}

export function assertMayChange(scope: TenantScope, row: Owned, what: string): void {
  const refusal = changeRefusal(scope, row, what);
  if (refusal !== null) throw new AccessDenied(refusal);
}

/**
 * The owner of a row a scope creates: an organisation-wide caller puts it in the requested project
 * (or none); a project-scoped caller's rows land in its project, and asking for another is refused.
 */
export function ownerOfNewRow(scope: TenantScope, requestedProjectId: string | null | undefined): Owned {
  if (scope.projectId === null) return { organisationId: scope.organisationId, projectId: requestedProjectId ?? null };
  if (requestedProjectId !== undefined && requestedProjectId !== scope.projectId) {
    throw new AccessDenied(
      requestedProjectId === null
        ? `a key scoped to project ${scope.projectId} cannot create organisation-wide rows`
        : `a key scoped to project ${scope.projectId} cannot create rows in project ${requestedProjectId}`,
    );
  }
  return { organisationId: scope.organisationId, projectId: scope.projectId };
}

/**
 * The owner of a new gateway key. Same as any row: a project admin mints keys of its own project
 * only, never an organisation-wide one. It may mint an admin key for its own project: that key
 * can do nothing its creator cannot (it is confined to the same project), and refusing it would
 * only push teams to share one admin key instead of revoking them one by one.
 */
export function ownerOfNewKey(scope: TenantScope, requested: { projectId?: string | null }): Owned {
  return ownerOfNewRow(scope, requested.projectId);
}
