import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { CreateModelRewriteRuleDto, QUEUE_GROUPS, UpdateModelRewriteRuleDto, type CommandResponse, type ListInput } from '#libs/contracts';
import { checkedEnvelope, CommandHandler, idOf, validInput } from '#libs/bus';
import { pageRequest } from '../common/page-request.js';
import { ModelRewriteRulesService } from './model-rewrite-rules.service.js';

/** registry.v1.model-rewrite-rules.*: checks the envelope and input, calls the service. */
@Controller()
export class ModelRewriteRulesHandler {
  constructor(private readonly rules: ModelRewriteRulesService) {}

  @CommandHandler('registry.v1.model-rewrite-rules.create', QUEUE_GROUPS.registry)
  async create(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-rewrite-rules.create'>> {
    const command = checkedEnvelope(payload);
    const input = await validInput(CreateModelRewriteRuleDto, command.input);
    return this.rules.create({ ...command, input });
  }

  @CommandHandler('registry.v1.model-rewrite-rules.list', QUEUE_GROUPS.registry)
  async list(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-rewrite-rules.list'>> {
    const command = checkedEnvelope(payload);
    return this.rules.list(command.scope, pageRequest(command.input as ListInput | undefined));
  }

  @CommandHandler('registry.v1.model-rewrite-rules.get', QUEUE_GROUPS.registry)
  async get(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-rewrite-rules.get'>> {
    const command = checkedEnvelope(payload);
    return this.rules.get(command.scope, idOf(command.input));
  }

  @CommandHandler('registry.v1.model-rewrite-rules.update', QUEUE_GROUPS.registry)
  async update(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-rewrite-rules.update'>> {
    const command = checkedEnvelope(payload);
    const id = idOf(command.input);
    const patch = await validInput(UpdateModelRewriteRuleDto, (command.input as { patch?: unknown }).patch);
    return this.rules.update({ ...command, input: { id, patch } });
  }

  @CommandHandler('registry.v1.model-rewrite-rules.delete', QUEUE_GROUPS.registry)
  async delete(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.model-rewrite-rules.delete'>> {
    const command = checkedEnvelope(payload);
    return this.rules.delete({ ...command, input: { id: idOf(command.input) } });
  }

  /** Every organisation's rules, in the order they apply: the gateway's read model loads them. */
  @CommandHandler('registry.v1.model-rewrite-rules.all', QUEUE_GROUPS.registry)
  async all(): Promise<CommandResponse<'registry.v1.model-rewrite-rules.all'>> {
    return this.rules.all();
  }
}
