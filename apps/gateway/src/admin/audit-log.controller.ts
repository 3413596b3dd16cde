import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditLogPageView, AuditLogQueryDto } from '#libs/contracts';
import { AuditLogQueryService } from '../audit/audit-log-query.service.js';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';

@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/audit-log')
export class AuditLogController {
  constructor(private readonly auditLog: AuditLogQueryService) {}

  @Get()
  @ApiOperation({
    summary: 'Read the audit log',
    description:
      "Every create, update, delete, reveal, import and key action of every service (gateway keys; connections, configuration imports and master-key rotations; provider models, model definitions and rewrite rules), with its outcome (succeeded, denied, failed), newest first. Filters: actor (key id or name), action, resource (a row's id, or a resource type such as connection), from / to. An admin sees its organisation's entries (a project admin its project's).",
  })
  @ApiOkResponse({ type: AuditLogPageView })
  list(@CurrentPrincipal() p: Principal, @Query() query: AuditLogQueryDto): Promise<AuditLogPageView> {
    return this.auditLog.list(envelopeFor(p, query));
  }
}
