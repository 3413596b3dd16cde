export * from './json-limits.js';
