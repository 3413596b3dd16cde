export * from './bpe-counter.js';
export * from './token-counter.js';
export * from './approximate-count.js';
export * from './token-counters.js';
