import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { ConfigExportView, ConfigImportReportView } from '#libs/contracts';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';

/** An import writes every file's connection and models: more than one bus round trip's usual time. */
const IMPORT_TIMEOUT_MS = 120_000;

/** Configuration as code (CONFIG_DIR): forwarded over the bus to the credential-vault service. */
@ApiTags('config')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/config')
export class ConfigController {
  constructor(private readonly bus: BusClient) {}

  @Post('import')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Import the configuration directory',
    description:
      'Reads CONFIG_DIR/backends/<name>/backend.yaml (also done at start): each file becomes the connection <name> and its provider models, marked managedBy config:<file>. Idempotent. A file with any problem is reported by path and field and skipped whole; the others are imported. A missing CONFIG_DIR imports nothing (found: false). Organisation-wide admins only; audited (config.imported).',
  })
  @ApiOkResponse({ type: ConfigImportReportView })
  import(@CurrentPrincipal() p: Principal): Promise<ConfigImportReportView> {
    return this.bus.request('vault.v1.config.import', envelopeFor(p, {}), IMPORT_TIMEOUT_MS);
  }

  @Get('export')
  @ApiOperation({
    summary: 'Export connections and models as backend.yaml files',
    description: 'The organisation-wide connections and their provider models in the import format, without secrets (keys appear as the environment variable they are read from). Write each file under CONFIG_DIR and import to get the same state.',
  })
  @ApiOkResponse({ type: ConfigExportView })
  export(@CurrentPrincipal() p: Principal): Promise<ConfigExportView> {
    return this.bus.request('vault.v1.config.export', envelopeFor(p, {}));
  }
}
