export * from './call-span.js';
export * from './span-publisher.js';
