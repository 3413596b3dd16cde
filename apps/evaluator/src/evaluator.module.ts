import { Module, type DynamicModule } from '@nestjs/common';
import { type RunningService, serviceInfrastructure, type ServiceRuntime, startBusService } from '#libs/runtime';
import { DatasetEntity } from './datasets/dataset.entity.js';
import { PingHandler } from './health/ping.handler.js';
import { Initial1732350000000 } from './migrations/1732350000000-initial.js';
import { PlaygroundRuns1732380000000 } from './migrations/1732380000000-playground-runs.js';
import { DatasetsHandler } from './datasets/datasets.handler.js';
import { DatasetsRepository } from './datasets/datasets.repository.js';
import { DatasetsService } from './datasets/datasets.service.js';
import { EvaluationRunner } from './evaluations/evaluation-runner.js';
import { EvaluationsHandler } from './evaluations/evaluations.handler.js';
import { EvaluationsRepository } from './evaluations/evaluations.repository.js';
import { EvaluationsService } from './evaluations/evaluations.service.js';
import { GatewayClient } from './gateway/gateway-client.js';
import { GatewayIdentity } from './gateway/gateway-identity.js';
import { Evaluations1796700000000 } from './migrations/1796700000000-evaluations.js';
import { PlaygroundSessions1796700000001 } from './migrations/1796700000001-playground-sessions.js';
import { RunLeases1796700000002 } from './migrations/1796700000002-run-leases.js';
import { TraceCosts } from './gateway/trace-costs.js';
import { PlaygroundSessionsHandler } from './playground/playground-sessions.handler.js';
import { PlaygroundSessionsService } from './playground/playground-sessions.service.js';
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
      migrations: [Initial1732350000000, PlaygroundRuns1732380000000, Evaluations1796700000000, PlaygroundSessions1796700000001, RunLeases1796700000002],
    });
    return {
      module: EvaluatorModule,
      imports: infrastructure,
      controllers: [PingHandler, PlaygroundHandler, DatasetsHandler, EvaluationsHandler, PlaygroundSessionsHandler],
      providers: [PlaygroundService, GatewayClient, GatewayIdentity, DatasetsRepository, DatasetsService, EvaluationsRepository, EvaluationsService, EvaluationRunner, TraceCosts, PlaygroundSessionsService],
    };
  }
}

export async function startEvaluator(runtime: ServiceRuntime): Promise<RunningService> {
  return startBusService('evaluator', await EvaluatorModule.forRuntime(runtime), runtime);
}
