import 'reflect-metadata';
import { runStandalone } from '#libs/runtime';
import { startUsageMetering } from './usage-metering.module.js';

// Pricing and storing usage is background work: on a shared host it yields the CPU to the gateway.
await runStandalone('usage-metering', startUsageMetering, { niceness: (config) => config.meteringNice });
