import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { checkedEnvelope, CommandHandler, idOf, validInput } from '#libs/bus';
import { CreateConnectionDto, ListConnectionsInputDto, QUEUE_GROUPS, RecordConnectionTestDto, RotateMasterKeyDto, UpdateConnectionDto, type CommandResponse } from '#libs/contracts';
import { ConnectionsService } from './connections.service.js';
import { MasterKeyRotationService } from './master-key-rotation.service.js';

/**
 * The vault's connection commands on the bus (the gateway's /admin/connections forwards here).
 * Each checks the envelope (an organisation is required: an undefined one would match every row)
 * and its input's DTO before the service sees it: the bus has other clients than the gateway.
 */
@Controller()
export class ConnectionsHandler {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly rotation: MasterKeyRotationService,
  ) {}

  @CommandHandler('vault.v1.master-key.rotate', QUEUE_GROUPS.vault)
  async rotateMasterKey(@Payload() payload: unknown): Promise<CommandResponse<'vault.v1.master-key.rotate'>> {
    const command = checkedEnvelope(payload);
    const input = await validInput(RotateMasterKeyDto, command.input ?? {});
    return this.rotation.rotateOnDemand({ ...command, input });
  }

  @CommandHandler('vault.v1.connections.create', QUEUE_GROUPS.vault)
  async create(@Payload() payload: unknown): Promise<CommandResponse<'vault.v1.connections.create'>> {
    const command = checkedEnvelope(payload);
    const input = await validInput(CreateConnectionDto, command.input);
    return this.connections.create({ ...command, input });
  }

  @CommandHandler('vault.v1.connections.list', QUEUE_GROUPS.vault)
  async list(@Payload() payload: unknown): Promise<CommandResponse<'vault.v1.connections.list'>> {
    const command = checkedEnvelope(payload);
    const input = await validInput(ListConnectionsInputDto, command.input ?? {});
    return this.connections.list(command.scope, input);
  }

  @CommandHandler('vault.v1.connections.get', QUEUE_GROUPS.vault)
  async get(@Payload() payload: unknown): Promise<CommandResponse<'vault.v1.connections.get'>> {
    const command = checkedEnvelope(payload);
    return this.connections.get(command.scope, idOf(command.input));
  }

  @CommandHandler('vault.v1.connections.update', QUEUE_GROUPS.vault)
  async update(@Payload() payload: unknown): Promise<CommandResponse<'vault.v1.connections.update'>> {
    const command = checkedEnvelope(payload);
    const id = idOf(command.input);
    const input = await validInput(UpdateConnectionDto, command.input);
    return this.connections.update({ ...command, input: { ...input, id } });
  }

  @CommandHandler('vault.v1.connections.record-test', QUEUE_GROUPS.vault)
  async recordTest(@Payload() payload: unknown): Promise<CommandResponse<'vault.v1.connections.record-test'>> {
    const command = checkedEnvelope(payload);
    const input = await validInput(RecordConnectionTestDto, command.input);
    return this.connections.recordTest({ ...command, input });
  }

  @CommandHandler('vault.v1.connections.delete', QUEUE_GROUPS.vault)
  async delete(@Payload() payload: unknown): Promise<CommandResponse<'vault.v1.connections.delete'>> {
    const command = checkedEnvelope(payload);
    return this.connections.delete({ ...command, input: { id: idOf(command.input) } });
  }

  @CommandHandler('vault.v1.connections.reveal', QUEUE_GROUPS.vault)
  async reveal(@Payload() payload: unknown): Promise<CommandResponse<'vault.v1.connections.reveal'>> {
    const command = checkedEnvelope(payload);
    return this.connections.reveal({ ...command, input: { id: idOf(command.input) } });
  }

  /** A page of every organisation's connections for the gateway's read model: no tenant; `after` and `limit` only. */
  @CommandHandler('vault.v1.connections.resolve-page', QUEUE_GROUPS.vault)
  resolvePage(@Payload() payload: unknown): Promise<CommandResponse<'vault.v1.connections.resolve-page'>> {
    const input = (typeof payload === 'object' && payload !== null ? payload : {}) as { after?: unknown; limit?: unknown };
    return this.connections.resolvePage({
      ...(typeof input.after === 'string' && input.after.length <= 128 ? { after: input.after } : {}),
      ...(typeof input.limit === 'number' && Number.isFinite(input.limit) ? { limit: input.limit } : {}),
    });
  }

  /** Every organisation's connections for the gateway's read model: no tenant, no input (kept for gateways of the previous version). */
  @CommandHandler('vault.v1.connections.resolve-all', QUEUE_GROUPS.vault)
  resolveAll(): Promise<CommandResponse<'vault.v1.connections.resolve-all'>> {
    return this.connections.resolveAll();
  }
}
