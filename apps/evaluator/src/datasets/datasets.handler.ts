import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { checkedEnvelope, CommandHandler, idOf, validInput } from '#libs/bus';
import { AddDatasetRowsDto, CreateDatasetDto, DatasetRowsQueryDto, ListInputDto, QUEUE_GROUPS, UploadDatasetRowsDto, type CommandResponse } from '#libs/contracts';
import { DatasetsService } from './datasets.service.js';

/** evaluator.v1.datasets.*: checks the envelope and the input, asks the service. */
@Controller()
export class DatasetsHandler {
  constructor(private readonly datasets: DatasetsService) {}

  @CommandHandler('evaluator.v1.datasets.create', QUEUE_GROUPS.evaluator)
  async create(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.datasets.create'>> {
    const envelope = checkedEnvelope(payload);
    return this.datasets.create({ ...envelope, input: await validInput(CreateDatasetDto, envelope.input) });
  }

  @CommandHandler('evaluator.v1.datasets.list', QUEUE_GROUPS.evaluator)
  async list(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.datasets.list'>> {
    const envelope = checkedEnvelope(payload);
    return this.datasets.list(envelope.scope, await validInput(ListInputDto, envelope.input ?? {}));
  }

  @CommandHandler('evaluator.v1.datasets.get', QUEUE_GROUPS.evaluator)
  async get(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.datasets.get'>> {
    const envelope = checkedEnvelope(payload);
    return this.datasets.get(envelope.scope, idOf(envelope.input));
  }

  @CommandHandler('evaluator.v1.datasets.add-rows', QUEUE_GROUPS.evaluator)
  async addRows(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.datasets.add-rows'>> {
    const envelope = checkedEnvelope(payload);
    const id = idOf(envelope.input);
    const input = await validInput(AddDatasetRowsDto, envelope.input);
    return this.datasets.addRows({ ...envelope, input: { id, rows: input.rows } });
  }

  @CommandHandler('evaluator.v1.datasets.upload', QUEUE_GROUPS.evaluator)
  async upload(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.datasets.upload'>> {
    const envelope = checkedEnvelope(payload);
    const id = idOf(envelope.input);
    const input = await validInput(UploadDatasetRowsDto, envelope.input);
    return this.datasets.upload({ ...envelope, input: { id, format: input.format, content: input.content } });
  }

  @CommandHandler('evaluator.v1.datasets.rows', QUEUE_GROUPS.evaluator)
  async rows(@Payload() payload: unknown): Promise<CommandResponse<'evaluator.v1.datasets.rows'>> {
    const envelope = checkedEnvelope(payload);
    const id = idOf(envelope.input);
    const input = await validInput(DatasetRowsQueryDto, envelope.input);
    return this.datasets.rows(envelope.scope, { id, version: input.version, limit: input.limit, cursor: input.cursor });
  }
}
