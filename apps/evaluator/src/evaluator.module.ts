import { Module, type DynamicModule } from '@nestjs/common';
import { type RunningService, serviceInfrastructure, type ServiceRuntime, startBusService } from '#libs/runtime';
import { DatasetEntity } from './datasets/dataset.entity.js';
import { PingHandler } from './health/ping.handler.js';
import { Initial1732350000000 } from './migrations/1732350000000-initial.js';
import { PlaygroundRuns1732380000000 } from './migrations/1732380000000-playground-runs.js';
import { GatewayClient } from './playground/gateway-client.js';
import { PlaygroundRunEntity } from './playground/playground-run.entity.js';
import { PlaygroundHandler } from './playground/playground.handler.js';
import { PlaygroundService } from './playground/playground.service.js';

export const EVALUATOR_SCHEMA = 'evaluator';

@Module({})
export class EvaluatorModule {
  static async forRuntime(runtime: ServiceRuntime): Promise<DynamicModule> {
    const infrastructure = await serviceInfrastructure(runtime, {
      schema: EVALUATOR_SCHEMA,
      entities: [DatasetEntity, PlaygroundRunEntity],
      migrations: [Initial1732350000000, PlaygroundRuns1732380000000],
    });
    return {
      module: EvaluatorModule,
      imports: infrastructure,
      controllers: [PingHandler, PlaygroundHandler],
      providers: [PlaygroundService, GatewayClient],
    };
  }
}

export async function startEvaluator(runtime: ServiceRuntime): Promise<RunningService> {
  return startBusService('evaluator', await EvaluatorModule.forRuntime(runtime), runtime);
}
