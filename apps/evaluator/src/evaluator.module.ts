import { Module, type DynamicModule } from '@nestjs/common';
import { type RunningService, serviceInfrastructure, type ServiceRuntime, startBusService } from '#libs/runtime';
import { DatasetEntity } from './datasets/dataset.entity.js';
import { PingHandler } from './health/ping.handler.js';
import { Initial1732350000000 } from './migrations/1732350000000-initial.js';

export const EVALUATOR_SCHEMA = 'evaluator';

@Module({})
export class EvaluatorModule {
  static async forRuntime(runtime: ServiceRuntime): Promise<DynamicModule> {
    const infrastructure = await serviceInfrastructure(runtime, {
      schema: EVALUATOR_SCHEMA,
      entities: [DatasetEntity],
      migrations: [Initial1732350000000],
    });
    return {
      module: EvaluatorModule,
      imports: infrastructure,
      controllers: [PingHandler],
    };
  }
}

export async function startEvaluator(runtime: ServiceRuntime): Promise<RunningService> {
  return startBusService('evaluator', await EvaluatorModule.forRuntime(runtime), runtime);
}
