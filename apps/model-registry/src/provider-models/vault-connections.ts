import { Injectable } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import { AppError, ErrorCode, type CommandEnvelope, type ConnectionView } from '#libs/contracts';

/** The credential vault's connections, as the registry may see them: asked over the bus, never read from the vault's tables. */
@Injectable()
export class VaultConnections {
  constructor(private readonly bus: BusClient) {}

  /**
   * The connection with this id as the caller of `command` sees it (same scope and actor, so the
   * vault applies its own tenancy and audit), or null when the vault has none.
   */
  async find(command: CommandEnvelope<unknown>, id: string): Promise<ConnectionView | null> {
    try {
      return await this.bus.request('vault.v1.connections.get', { scope: command.scope, actor: command.actor, input: { id } });
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.NotFound) return null;
      throw err;
    }
  }
}
