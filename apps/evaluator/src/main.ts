import 'reflect-metadata';
import { runStandalone } from '#libs/runtime';
import { startEvaluator } from './evaluator.module.js';

await runStandalone('evaluator', startEvaluator);
