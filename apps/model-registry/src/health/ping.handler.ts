import { Controller } from '@nestjs/common';
import { CommandHandler } from '#libs/bus';
import { QUEUE_GROUPS, type CommandResponse } from '#libs/contracts';
import { DataSource } from 'typeorm';

@Controller()
export class PingHandler {
  constructor(private readonly dataSource: DataSource) {}

  /** Answers only when this service's database answers too, so the gateway's readiness means something. */
  @CommandHandler('registry.v1.ping', QUEUE_GROUPS.registry)
  async ping(): Promise<CommandResponse<'registry.v1.ping'>> {
    await this.dataSource.query('SELECT 1');
    return { service: 'model-registry', ok: true };
  }
}
