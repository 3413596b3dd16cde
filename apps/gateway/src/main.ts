import 'reflect-metadata';
import { runStandalone } from '#libs/runtime';
import { startGateway } from './gateway.module.js';

await runStandalone('gateway', startGateway);
