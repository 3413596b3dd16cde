import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { CreateProviderModelDto, managedByOf, QUEUE_GROUPS, UpdateProviderModelDto, type CommandResponse, type ListInput } from '#libs/contracts';
import { checkedEnvelope, CommandHandler, idOf, validInput } from '#libs/bus';
import { pageRequest } from '../common/page-request.js';
import { ProviderModelsService } from './provider-models.service.js';

/** registry.v1.provider-models.*: checks the envelope and input, calls the service. */
@Controller()
export class ProviderModelsHandler {
  constructor(private readonly providerModels: ProviderModelsService) {}

  @CommandHandler('registry.v1.provider-models.create', QUEUE_GROUPS.registry)
  async create(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.provider-models.create'>> {
    const command = checkedEnvelope(payload);
    const input = await validInput(CreateProviderModelDto, command.input);
    const managedBy = managedByOf(command.input);
    return this.providerModels.create({ ...command, input: managedBy === undefined ? input : { ...input, managedBy } });
  }

  @CommandHandler('registry.v1.provider-models.list', QUEUE_GROUPS.registry)
  async list(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.provider-models.list'>> {
    const command = checkedEnvelope(payload);
    return this.providerModels.list(command.scope, pageRequest(command.input as ListInput | undefined));
  }

  @CommandHandler('registry.v1.provider-models.get', QUEUE_GROUPS.registry)
  async get(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.provider-models.get'>> {
    const command = checkedEnvelope(payload);
    return this.providerModels.get(command.scope, idOf(command.input));
  }

  @CommandHandler('registry.v1.provider-models.update', QUEUE_GROUPS.registry)
  async update(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.provider-models.update'>> {
    const command = checkedEnvelope(payload);
    const id = idOf(command.input);
    const patch = await validInput(UpdateProviderModelDto, (command.input as { patch?: unknown }).patch);
    const managedBy = managedByOf(command.input);
    return this.providerModels.update({ ...command, input: managedBy === undefined ? { id, patch } : { id, patch, managedBy } });
  }

  @CommandHandler('registry.v1.provider-models.delete', QUEUE_GROUPS.registry)
  async delete(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.provider-models.delete'>> {
    const command = checkedEnvelope(payload);
    return this.providerModels.delete({ ...command, input: { id: idOf(command.input) } });
  }

  /** Every organisation's provider models: the gateway's read model loads them at start. */
  @CommandHandler('registry.v1.provider-models.all', QUEUE_GROUPS.registry)
  async all(): Promise<CommandResponse<'registry.v1.provider-models.all'>> {
    return this.providerModels.all();
  }
}
