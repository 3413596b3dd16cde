/** Everything the vault audits. A closed list: the table's CHECK constraint holds the same values. */
export const AUDIT_ACTIONS = ['connection.created', 'connection.deleted', 'connection.revealed', 'master_key.rotated'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
