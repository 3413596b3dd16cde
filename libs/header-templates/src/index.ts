export * from './header-template.js';
