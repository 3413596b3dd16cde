import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { CommandHandler } from '#libs/bus';
import { QUEUE_GROUPS, type CommandRequest, type CommandResponse } from '#libs/contracts';
import { ConnectionsService } from './connections.service.js';

/** The vault's connection commands on the bus (the gateway's /admin/connections forwards here). */
@Controller()
export class ConnectionsHandler {
  constructor(private readonly connections: ConnectionsService) {}

  @CommandHandler('vault.v1.connections.create', QUEUE_GROUPS.vault)
  create(@Payload() request: CommandRequest<'vault.v1.connections.create'>): Promise<CommandResponse<'vault.v1.connections.create'>> {
    return this.connections.create(request);
  }

  @CommandHandler('vault.v1.connections.list', QUEUE_GROUPS.vault)
  list(@Payload() request: CommandRequest<'vault.v1.connections.list'>): Promise<CommandResponse<'vault.v1.connections.list'>> {
    return this.connections.list(request.scope, request.input);
  }

  @CommandHandler('vault.v1.connections.get', QUEUE_GROUPS.vault)
  get(@Payload() request: CommandRequest<'vault.v1.connections.get'>): Promise<CommandResponse<'vault.v1.connections.get'>> {
    return this.connections.get(request.scope, request.input.id);
  }

  @CommandHandler('vault.v1.connections.delete', QUEUE_GROUPS.vault)
  delete(@Payload() request: CommandRequest<'vault.v1.connections.delete'>): Promise<CommandResponse<'vault.v1.connections.delete'>> {
    return this.connections.delete(request);
  }

  @CommandHandler('vault.v1.connections.reveal', QUEUE_GROUPS.vault)
  reveal(@Payload() request: CommandRequest<'vault.v1.connections.reveal'>): Promise<CommandResponse<'vault.v1.connections.reveal'>> {
    return this.connections.reveal(request);
  }

  @CommandHandler('vault.v1.connections.resolve-all', QUEUE_GROUPS.vault)
  resolveAll(): Promise<CommandResponse<'vault.v1.connections.resolve-all'>> {
    return this.connections.resolveAll();
  }
}
