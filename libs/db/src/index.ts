export * from './data-source.js';
export * from './embedded-postgres-server.js';
export * from './ids.js';
export * from './tenant-owned.js';
export * from './database.module.js';
export * from './audit-log.js';
export * from './audit-log-reader.js';
