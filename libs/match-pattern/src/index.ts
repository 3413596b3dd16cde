export * from './match-pattern.js';
export * from './name-rewrite.js';
