import 'reflect-metadata';
import { runStandalone } from '#libs/runtime';
import { startModelRegistry } from './model-registry.module.js';

await runStandalone('model-registry', startModelRegistry);
