import { Module, type DynamicModule } from '@nestjs/common';
import { BusModule } from '#libs/bus';
import { ConfigModule } from '#libs/config';
import { DatabaseModule, openServiceDatabase } from '#libs/db';
import { startBusService, type RunningService, type ServiceRuntime } from '#libs/runtime';
import { DatasetEntity } from './datasets/dataset.entity.js';
import { PingHandler } from './health/ping.handler.js';
import { Initial1732350000000 } from './migrations/1732350000000-initial.js';

export const EVALUATOR_SCHEMA = 'evaluator';

@Module({})
export class EvaluatorModule {
  static async forRuntime(runtime: ServiceRuntime): Promise<DynamicModule> {
    const dataSource = await openServiceDatabase({
      url: runtime.databaseUrl,
      schema: EVALUATOR_SCHEMA,
      entities: [DatasetEntity],
      migrations: [Initial1732350000000],
    });
    return {
      module: EvaluatorModule,
      imports: [
        ConfigModule.forRoot(runtime.config),
        BusModule.forRoot(runtime.transport, { requestTimeoutMs: runtime.config.busRequestTimeoutMs }),
        DatabaseModule.forDataSource(dataSource),
      ],
      controllers: [PingHandler],
    };
  }
}

export async function startEvaluator(runtime: ServiceRuntime): Promise<RunningService> {
  return startBusService('evaluator', await EvaluatorModule.forRuntime(runtime), runtime);
}
