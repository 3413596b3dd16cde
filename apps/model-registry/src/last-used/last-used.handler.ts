import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AppError, QUEUE_GROUPS, type CommandResponse, type LastUsedBatch } from '#libs/contracts';
import { CommandHandler } from '#libs/bus';
import { LastUsedRepository } from './last-used.repository.js';

/** registry.v1.last-used.record: metering's batch of last-used times, checked, then written in one transaction. */
@Controller()
export class LastUsedHandler {
  constructor(private readonly lastUsed: LastUsedRepository) {}

  @CommandHandler('registry.v1.last-used.record', QUEUE_GROUPS.registry)
  async record(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.last-used.record'>> {
    return this.lastUsed.record(checkedBatch(payload));
  }
}

const MAX_ENTRIES = 100_000;

function checkedBatch(payload: unknown): LastUsedBatch {
  const batch = payload as Partial<LastUsedBatch> | null;
  const isTime = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
  const definitionsOk = Array.isArray(batch?.definitions) && batch.definitions.length <= MAX_ENTRIES && batch.definitions.every((d) => typeof d?.id === 'string' && isTime(d.at));
  const modelsOk =
    Array.isArray(batch?.providerModels) &&
    batch.providerModels.length <= MAX_ENTRIES &&
    batch.providerModels.every((m) => typeof m?.organisationId === 'string' && typeof m.name === 'string' && isTime(m.at));
  if (!definitionsOk || !modelsOk) {
    throw AppError.validation([{ field: definitionsOk ? 'providerModels' : 'definitions', messages: ['must be a list of {id or organisationId and name, at (ISO 8601)}'] }]);
  }
  return batch as LastUsedBatch;
}
