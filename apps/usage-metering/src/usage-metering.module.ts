import { Module, type DynamicModule } from '@nestjs/common';
import { Clock, type RunningService, serviceInfrastructure, type ServiceRuntime, startBusService } from '#libs/runtime';
import { Delay } from './common/delay.js';
import { DefinitionChangesHandler } from './definitions/definition-changes.handler.js';
import { DefinitionsReadModel } from './definitions/definitions-read-model.js';
import { RegistryDefinitions } from './definitions/registry-definitions.js';
import { PingHandler } from './health/ping.handler.js';
import { KeySpendHandler } from './key-spend/key-spend.handler.js';
import { KeySpendReporter } from './key-spend/key-spend-reporter.js';
import { LastUsedReporter, RegistryLastUsed } from './last-used/last-used-reporter.js';
import { BUS_LISTENING, BusListening, MeteringStartup } from './metering-startup.js';
import { MeteringInitial1732370000000 } from './migrations/1732370000000-metering-initial.js';
import { UsageStatus1796616360324 } from './migrations/1796616360324-usage-status.js';
import { UsageCallDimensions1796653743409 } from './migrations/1796653743409-usage-call-dimensions.js';
import { UsageUser1796655599662 } from './migrations/1796655599662-usage-user.js';
import { UsageCacheHit1796660000000 } from './migrations/1796660000000-usage-cache-hit.js';
import { UsageRollups1796670000000 } from './migrations/1796670000000-usage-rollups.js';
import { UsageRollupsPregrouped1796680000000 } from './migrations/1796680000000-usage-rollups-pregrouped.js';
import { SpanIdentityPerOrganisation1796652540293 } from './migrations/1796652540293-span-identity-per-organisation.js';
import { SpanBatchConsumer } from './records/span-batch.consumer.js';
import { UnpricedRecordsRepricer } from './records/unpriced-records.repricer.js';
import { UsageRecordEntity } from './records/usage-record.entity.js';
import { UsageRecordsRepository } from './records/usage-records.repository.js';
import { CostsReportHandler } from './reports/costs-report.handler.js';
import { CostsReportRepository } from './reports/costs-report.repository.js';
import { CostsReportService } from './reports/costs-report.service.js';
import { UsageRecordsQueryHandler } from './reports/usage-records-query.handler.js';
import { UsageRecordsQueryRepository } from './reports/usage-records-query.repository.js';
import { UsageRecordsQueryService } from './reports/usage-records-query.service.js';
import { TraceCostsHandler } from './traces/trace-costs.handler.js';

export const METERING_SCHEMA = 'metering';

/** usage-metering's schema, in order (also run by the report-scale benchmark on its scratch database). */
export const METERING_MIGRATIONS = [
  MeteringInitial1732370000000,
  UsageStatus1796616360324,
  SpanIdentityPerOrganisation1796652540293,
  UsageCallDimensions1796653743409,
  UsageUser1796655599662,
  UsageCacheHit1796660000000,
  UsageRollups1796670000000,
  UsageRollupsPregrouped1796680000000,
];

@Module({})
export class UsageMeteringModule {
  static async forRuntime(runtime: ServiceRuntime, listening: BusListening): Promise<DynamicModule> {
    const infrastructure = await serviceInfrastructure(runtime, {
      schema: METERING_SCHEMA,
      entities: [UsageRecordEntity],
      migrations: METERING_MIGRATIONS,
    });
    return {
      module: UsageMeteringModule,
      imports: infrastructure,
      controllers: [PingHandler, KeySpendHandler, CostsReportHandler, UsageRecordsQueryHandler, DefinitionChangesHandler, TraceCostsHandler],
      providers: [
        { provide: BUS_LISTENING, useValue: listening },
        Clock,
        Delay,
        RegistryDefinitions,
        DefinitionsReadModel,
        UsageRecordsRepository,
        UnpricedRecordsRepricer,
        RegistryLastUsed,
        LastUsedReporter,
        KeySpendReporter,
        SpanBatchConsumer,
        CostsReportRepository,
        CostsReportService,
        UsageRecordsQueryRepository,
        UsageRecordsQueryService,
        MeteringStartup,
      ],
    };
  }
}

/**
 * Starts usage-metering: its bus handlers at once, then (in the background) the definitions and the
 * span consumer. Closing it stops the consumer before the database closes.
 */
export async function startUsageMetering(runtime: ServiceRuntime): Promise<RunningService> {
  const listening = new BusListening();
  const service = await startBusService('usage-metering', await UsageMeteringModule.forRuntime(runtime, listening), runtime);
  listening.markOpen();
  return service;
}
