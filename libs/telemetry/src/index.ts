export * from './bus-span-processor.js';
export * from './span-record.js';
