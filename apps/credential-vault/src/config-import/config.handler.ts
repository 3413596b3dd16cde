import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { checkedEnvelope, CommandHandler } from '#libs/bus';
import { QUEUE_GROUPS, type CommandResponse } from '#libs/contracts';
import { ConfigExportService } from './config-export.service.js';
import { ConfigImportService } from './config-import.service.js';

/** vault.v1.config.*: configuration as code (the gateway's /admin/config forwards here). */
@Controller()
export class ConfigHandler {
  constructor(
    private readonly imports: ConfigImportService,
    private readonly exports: ConfigExportService,
  ) {}

  @CommandHandler('vault.v1.config.import', QUEUE_GROUPS.vault)
  import(@Payload() payload: unknown): Promise<CommandResponse<'vault.v1.config.import'>> {
    return this.imports.importDirectory(checkedEnvelope(payload));
  }

  @CommandHandler('vault.v1.config.export', QUEUE_GROUPS.vault)
  export(@Payload() payload: unknown): Promise<CommandResponse<'vault.v1.config.export'>> {
    return this.exports.export(checkedEnvelope(payload));
  }
}
