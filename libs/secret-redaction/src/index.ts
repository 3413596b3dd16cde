export * from './secret-redactor.js';
