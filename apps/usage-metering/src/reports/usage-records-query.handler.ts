import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AppError, QUEUE_GROUPS, UsageRecordsQueryDto, type CommandResponse } from '#libs/contracts';
import { checkedEnvelope, CommandHandler, validInput } from '#libs/bus';
import { UsageRecordsQueryService } from './usage-records-query.service.js';

/** metering.v1.records.*: checks the envelope and the query, asks the service. */
@Controller()
export class UsageRecordsQueryHandler {
  constructor(private readonly records: UsageRecordsQueryService) {}

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
