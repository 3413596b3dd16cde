import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { CostReportView, CostsQueryDto } from '#libs/contracts';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';

@ApiTags('usage')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/usage')
export class UsageController {
  constructor(private readonly bus: BusClient) {}

  @Get('costs')
  @ApiOperation({ summary: 'Cost report: exact decimal costs grouped by model, project or key' })
  @ApiOkResponse({ type: CostReportView })
  costs(@CurrentPrincipal() p: Principal, @Query() query: CostsQueryDto): Promise<CostReportView> {
    return this.bus.request('metering.v1.costs.report', envelopeFor(p, { from: query.from, to: query.to, groupBy: query.groupBy }));
  }
}
