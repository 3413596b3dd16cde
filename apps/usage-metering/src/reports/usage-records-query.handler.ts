import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AppError, QUEUE_GROUPS, UsageRecordsQueryDto, type CommandResponse } from '#libs/contracts';
import { checkedEnvelope, CommandHandler, validInput } from '#libs/bus';
import { UnpricedRecordsRepricer } from '../records/unpriced-records.repricer.js';
import { UsageRecordsQueryService } from './usage-records-query.service.js';

/** metering.v1.records.* and metering.v1.unpriced.reprice: checks the envelope and the query, asks the service. */
@Controller()
export class UsageRecordsQueryHandler {
  constructor(
    private readonly records: UsageRecordsQueryService,
    private readonly repricer: UnpricedRecordsRepricer,
  ) {}

  @CommandHandler('metering.v1.unpriced.reprice', QUEUE_GROUPS.metering)
  async reprice(@Payload() payload: unknown): Promise<CommandResponse<'metering.v1.unpriced.reprice'>> {
    return this.repricer.repriceScope(checkedEnvelope(payload).scope);
  }

  @CommandHandler('metering.v1.records.list', QUEUE_GROUPS.metering)
  async list(@Payload() payload: unknown): Promise<CommandResponse<'metering.v1.records.list'>> {
    const command = checkedEnvelope(payload);
    return this.records.list(command.scope, await validInput(UsageRecordsQueryDto, command.input ?? {}));
  }

  @CommandHandler('metering.v1.records.get', QUEUE_GROUPS.metering)
  async get(@Payload() payload: unknown): Promise<CommandResponse<'metering.v1.records.get'>> {
    const command = checkedEnvelope(payload);
    const id = (command.input as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string' || id.length === 0) throw AppError.validation([{ field: 'id', messages: ['id must be a non-empty string'] }]);
    return this.records.get(command.scope, id);
  }
}
