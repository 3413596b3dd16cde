import { Controller } from '@nestjs/common';
import { CommandHandler } from '#libs/bus';
import { QUEUE_GROUPS, type CommandResponse } from '#libs/contracts';
import { DataSource } from 'typeorm';

@Controller()
export class PingHandler {
  constructor(private readonly dataSource: DataSource) {}

  /** Answers only when this service's database answers too, so the gateway's readiness means something. */
  @CommandHandler('metering.v1.ping', QUEUE_GROUPS.metering)
  async ping(): Promise<CommandResponse<'metering.v1.ping'>> {
    await this.dataSource.query('SELECT 1');
    return { service: 'usage-metering', ok: true };
  }
}
