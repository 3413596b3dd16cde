export * from './definition-matcher.js';
export * from './match-pattern.js';
export * from './match-pattern-cache.js';
export * from './name-rewrite.js';
