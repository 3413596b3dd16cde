export * from './service-runtime.js';
export * from './clock.js';
