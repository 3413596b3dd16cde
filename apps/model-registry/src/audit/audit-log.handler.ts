import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { checkedEnvelope, CommandHandler, validInput } from '#libs/bus';
import { AuditLogListInputDto, QUEUE_GROUPS, type CommandResponse } from '#libs/contracts';
import { readAuditLog } from '#libs/db';
import { DataSource } from 'typeorm';

/** registry.v1.audit-log.list: the registry's audit entries for GET /admin/audit-log (the gateway merges every service's). */
@Controller()
export class AuditLogHandler {
  constructor(private readonly dataSource: DataSource) {}

  @CommandHandler('registry.v1.audit-log.list', QUEUE_GROUPS.registry)
  async list(@Payload() payload: unknown): Promise<CommandResponse<'registry.v1.audit-log.list'>> {
    const command = checkedEnvelope(payload);
    const input = await validInput(AuditLogListInputDto, command.input ?? {});
    return readAuditLog(this.dataSource.manager, command.scope, { ...input, limit: input.limit ?? 50 }, { service: 'model-registry' });
  }
}
