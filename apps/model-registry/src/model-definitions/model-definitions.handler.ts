import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { CreateModelDefinitionDto, QUEUE_GROUPS, type CommandResponse, type ListInput } from '#libs/contracts';
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
    return this.modelDefinitions.list(command.scope, pageRequest(command.input as ListInput | undefined));
  }

  @CommandHandler('registry.v1.model-definitions.get', QUEUE_GROUPS.registry)
  async get(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-definitions.get'>> {
    const command = checkedEnvelope(payload);
    return this.modelDefinitions.get(command.scope, idOf(command.input));
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
}
