/** Everything the vault audits. A closed list: the table's CHECK constraint holds the same values. */
export const AUDIT_ACTIONS = [
  'connection.created',
  'connection.updated',
  'connection.deleted',
  'connection.revealed',
  'connection.tested',
  'master_key.rotated',
  'config.imported',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
