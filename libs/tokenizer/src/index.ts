export * from './bpe-counter.js';
export * from './token-counter.js';
