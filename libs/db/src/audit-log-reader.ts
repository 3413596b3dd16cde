import { AUDIT_RESOURCE_TYPES, type AuditLogEntryView, type AuditLogListInput, type AuditService, type TenantScope } from '#libs/contracts';
import type { EntityManager } from 'typeorm';

interface AuditRow {
  id: string;
  organisation_id: string | null;
  project_id: string | null;
  actor_key_id: string;
  actor_name: string;
  actor_project_id: string | null;
  action: string;
  target_id: string | null;
  outcome: AuditLogEntryView['outcome'];
  reason: string | null;
  details?: Record<string, unknown> | null;
  at: Date;
}

const RESOURCE_TYPES = new Set<string>(AUDIT_RESOURCE_TYPES);

/**
 * One page of a service's `audit_log` table (the shape createAuditLogTable makes; the vault's adds
 * `details`) for GET /admin/audit-log: scoped to the caller's organisation, and to its project when
 * the caller has one; filtered; newest first, strictly older than `before`. Each service answers its
 * own; the gateway merges the pages by (at, id).
 */
export async function readAuditLog(
  manager: EntityManager,
  scope: TenantScope,
  input: AuditLogListInput,
  options: { service: AuditService; withDetails?: boolean },
): Promise<AuditLogEntryView[]> {
  const where = ['organisation_id = $1'];
  const values: unknown[] = [scope.organisationId];
  const add = (sql: (n: string) => string, value: unknown) => {
    values.push(value);
    where.push(sql(`$${values.length}`));
  };
  if (scope.projectId !== null) add((n) => `project_id = ${n}`, scope.projectId);
  if (input.actor !== undefined) add((n) => `(actor_key_id = ${n} OR actor_name = ${n})`, input.actor);
  if (input.action !== undefined) add((n) => `action = ${n}`, input.action);
  if (input.resource !== undefined) {
    if (RESOURCE_TYPES.has(input.resource)) add((n) => `starts_with(action, ${n})`, `${input.resource}.`);
    else add((n) => `target_id = ${n}`, input.resource);
  }
  if (input.from !== undefined) add((n) => `at >= ${n}`, new Date(input.from));
  if (input.to !== undefined) add((n) => `at < ${n}`, new Date(input.to));
  if (input.before !== undefined) {
    values.push(new Date(input.before.at), input.before.id);
    where.push(`(at, id) < ($${values.length - 1}, $${values.length})`);
  }
  values.push(Math.max(1, Math.min(input.limit, 201)));
  const rows: AuditRow[] = await manager.query(
    `SELECT id, organisation_id, project_id, actor_key_id, actor_name, actor_project_id, action, target_id, outcome, reason, at${options.withDetails ? ', details' : ''}
       FROM audit_log WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC LIMIT $${values.length}`,
    values,
  );
  return rows.map((r) => ({
    id: r.id,
    service: options.service,
    organisationId: r.organisation_id,
    projectId: r.project_id,
    actor: { keyId: r.actor_key_id, name: r.actor_name, projectId: r.actor_project_id },
    action: r.action,
    resourceType: r.action.split('.')[0]!,
    resourceId: r.target_id,
    outcome: r.outcome,
    reason: r.reason,
    details: r.details ?? null,
    at: r.at.toISOString(),
  }));
}
