export * from './address-class.js';
export * from './guarded-connector.js';
export * from './host-resolver.js';
export * from './upstream-address-policy.js';
export * from './upstream-address-refused.js';
export * from './upstream-allow-list.js';
export * from './guarded-fetch.js';
