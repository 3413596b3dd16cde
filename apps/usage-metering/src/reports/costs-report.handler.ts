import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { CostsQueryDto, QUEUE_GROUPS, type CommandResponse } from '#libs/contracts';
import { checkedEnvelope, CommandHandler, validInput } from '#libs/bus';
import { CostsReportService } from './costs-report.service.js';

/** metering.v1.costs.report: checks the envelope and the query, asks the service. */
@Controller()
export class CostsReportHandler {
  constructor(private readonly reports: CostsReportService) {}

  @CommandHandler('metering.v1.costs.report', QUEUE_GROUPS.metering)
  async report(@Payload() payload: unknown): Promise<CommandResponse<'metering.v1.costs.report'>> {
    const command = checkedEnvelope(payload);
    const input = await validInput(CostsQueryDto, command.input ?? {});
    return this.reports.report({ scope: command.scope, input });
  }
}
