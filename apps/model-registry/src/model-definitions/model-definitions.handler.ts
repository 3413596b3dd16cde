import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AddPriceVersionDto,
  AppError,
  CreateModelDefinitionDto,
  DEFINITION_LIST_SOURCES,
  PreviewQueryDto,
  QUEUE_GROUPS,
  UpdateModelDefinitionDto,
  type CommandResponse,
  type DefinitionListSource,
  type ListModelDefinitionsDto,
} from '#libs/contracts';
import { checkedEnvelope, CommandHandler, idOf, validInput } from '#libs/bus';
import { pageRequest } from '../common/page-request.js';
import { ModelDefinitionsService } from './model-definitions.service.js';

/** registry.v1.model-definitions.*: checks the envelope and input, calls the service. */
@Controller()
export class ModelDefinitionsHandler {
  constructor(private readonly modelDefinitions: ModelDefinitionsService) {}

  @CommandHandler('registry.v1.model-definitions.create', QUEUE_GROUPS.registry)
  async create(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-definitions.create'>> {
    const command = checkedEnvelope(payload);
    const input = await validInput(CreateModelDefinitionDto, command.input);
    return this.modelDefinitions.create({ ...command, input });
  }

  @CommandHandler('registry.v1.model-definitions.list', QUEUE_GROUPS.registry)
  async list(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-definitions.list'>> {
    const command = checkedEnvelope(payload);
    const input = command.input as ListModelDefinitionsDto | undefined;
    return this.modelDefinitions.list(command.scope, pageRequest(input), listSource(input?.source));
  }

  @CommandHandler('registry.v1.model-definitions.get', QUEUE_GROUPS.registry)
  async get(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-definitions.get'>> {
    const command = checkedEnvelope(payload);
    return this.modelDefinitions.get(command.scope, idOf(command.input));
  }

  @CommandHandler('registry.v1.model-definitions.update', QUEUE_GROUPS.registry)
  async update(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-definitions.update'>> {
    const command = checkedEnvelope(payload);
    const id = idOf(command.input);
    const input = await validInput(UpdateModelDefinitionDto, command.input);
    return this.modelDefinitions.update({ ...command, input: { ...input, id } });
  }

  @CommandHandler('registry.v1.model-definitions.add-version', QUEUE_GROUPS.registry)
  async addVersion(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-definitions.add-version'>> {
    const command = checkedEnvelope(payload);
    const id = idOf(command.input);
    const input = await validInput(AddPriceVersionDto, command.input);
    return this.modelDefinitions.addVersion({ ...command, input: Object.assign(input, { id }) });
  }

  @CommandHandler('registry.v1.model-definitions.preview', QUEUE_GROUPS.registry)
  async preview(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-definitions.preview'>> {
    const command = checkedEnvelope(payload);
    const id = idOf(command.input);
    const input = await validInput(PreviewQueryDto, command.input);
    return this.modelDefinitions.preview(command.scope, { ...input, id });
  }

  @CommandHandler('registry.v1.model-definitions.delete', QUEUE_GROUPS.registry)
  async delete(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-definitions.delete'>> {
    const command = checkedEnvelope(payload);
    return this.modelDefinitions.delete({ ...command, input: { id: idOf(command.input) } });
  }

  /** Every organisation's definitions with their prices: the gateway's and usage-metering's read models load them at start. */
  @CommandHandler('registry.v1.model-definitions.all', QUEUE_GROUPS.registry)
  async all(): Promise<CommandResponse<'registry.v1.model-definitions.all'>> {
    return this.modelDefinitions.all();
  }

  /** Every definition's pattern and tokenizer (no prices): the gateway's read model loads them to count input tokens. */
  @CommandHandler('registry.v1.model-definitions.tokenizers', QUEUE_GROUPS.registry)
  async tokenizers(): Promise<CommandResponse<'registry.v1.model-definitions.tokenizers'>> {
    return this.modelDefinitions.tokenizers();
  }
}

function listSource(source: unknown): DefinitionListSource {
  if (source === undefined || source === null || source === '') return 'user';
  if (typeof source === 'string' && (DEFINITION_LIST_SOURCES as readonly string[]).includes(source)) return source as DefinitionListSource;
  throw AppError.validation([{ field: 'source', messages: [`source must be one of ${DEFINITION_LIST_SOURCES.join(', ')}`] }]);
}
