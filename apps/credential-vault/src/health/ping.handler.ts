import { Controller } from '@nestjs/common';
import { CommandHandler } from '#libs/bus';
import { QUEUE_GROUPS, type CommandResponse } from '#libs/contracts';
import { DataSource } from 'typeorm';

@Controller()
export class PingHandler {
  constructor(private readonly dataSource: DataSource) {}

  /** Answers only when the vault's database answers too, so the gateway's readiness means something. */
  @CommandHandler('vault.v1.ping', QUEUE_GROUPS.vault)
  async ping(): Promise<CommandResponse<'vault.v1.ping'>> {
    await this.dataSource.query('SELECT 1');
    return { service: 'credential-vault', ok: true };
  }
}
