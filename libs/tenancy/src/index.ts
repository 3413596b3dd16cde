export * from './audit-entry.js';
export * from './detached-audit-writer.js';
export * from './ownership.js';
export * from './audited-attempt.js';
