import 'reflect-metadata';
import { runStandalone } from '#libs/runtime';
import { startUsageMetering } from './usage-metering.module.js';

await runStandalone('usage-metering', startUsageMetering);
