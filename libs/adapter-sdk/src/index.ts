export * from './adapter.js';
export * from './adapter-registry.js';
export * from './sse-event-splitter.js';
