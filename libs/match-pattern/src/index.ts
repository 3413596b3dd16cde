export * from './match-pattern.js';
