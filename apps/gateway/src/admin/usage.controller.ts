import { Controller, Get, Header, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { CostReportView, CostsQueryDto } from '#libs/contracts';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';
import { costsCsv } from './costs-csv.js';

@ApiTags('usage')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/usage')
export class UsageController {
  constructor(private readonly bus: BusClient) {}

  @Get('costs')
  @ApiOperation({ summary: 'Cost report: exact decimal costs and tokens by usage type, grouped by model, project, key, provider, connection, provider model, day or hour' })
  @ApiOkResponse({ type: CostReportView })
  costs(@CurrentPrincipal() p: Principal, @Query() query: CostsQueryDto): Promise<CostReportView> {
    return this.report(p, query);
  }

  @Get('costs.csv')
  @Header('content-type', 'text/csv; charset=utf-8')
  @Header('content-disposition', 'attachment; filename="costs.csv"')
  @ApiOperation({ summary: 'The cost report as CSV: one row per group, the same query parameters and figures' })
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'CSV with a header row; costs are exact decimal strings.', schema: { type: 'string' } })
  async costsCsv(@CurrentPrincipal() p: Principal, @Query() query: CostsQueryDto): Promise<string> {
    return costsCsv(await this.report(p, query));
  }

  private report(p: Principal, query: CostsQueryDto): Promise<CostReportView> {
    return this.bus.request('metering.v1.costs.report', envelopeFor(p, { from: query.from, to: query.to, groupBy: query.groupBy }));
  }
}
