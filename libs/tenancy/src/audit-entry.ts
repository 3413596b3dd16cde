/**
 * The one audit-entry shape every service records (each in its own schema's audit_log table):
 * who (a key id, or 'anonymous'), acting for which scope, tried what on which row, and how it
 * ended. Denied and failed attempts are recorded as well as successful ones.
 */
export const AUDIT_OUTCOMES = ['succeeded', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditActor {
  keyId: string;
  name: string;
}

/** A caller whose key was missing or unknown. */
export const ANONYMOUS_ACTOR: AuditActor = { keyId: 'anonymous', name: 'anonymous' };

export interface AuditEntry<Action extends string = string> {
  /** The organisation acted in; null only when the caller could not be identified. */
  organisationId: string | null;
  /** The project of the target row when it is known, else the one the caller acted in or asked for. */
  projectId: string | null;
  actor: AuditActor;
  /** The caller's own project (null = organisation-wide or unidentified): the scope it acted with. */
  actorProjectId: string | null;
  action: Action;
  /** The row acted on; null when there is none yet (a refused create). */
  targetId: string | null;
  outcome: AuditOutcome;
  /** Why it was denied or failed; null when it succeeded. Never internal detail or a secret. */
  reason: string | null;
}
