import { Controller, Get, Header, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { CostReportView, CostsQueryDto, RepriceResultView, UsageRecordsPageView, UsageRecordsQueryDto, UsageRecordView } from '#libs/contracts';
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

  @Get('records')
  @ApiOperation({ summary: 'Usage records, newest first: filter by time, model, source, priced, estimated; a page at a time (limit, cursor)' })
  @ApiOkResponse({ type: UsageRecordsPageView })
  records(@CurrentPrincipal() p: Principal, @Query() query: UsageRecordsQueryDto): Promise<UsageRecordsPageView> {
    return this.bus.request('metering.v1.records.list', envelopeFor(p, query));
  }

  @Get('records/:id')
  @ApiOperation({ summary: 'One usage record with its price version (definition, effective-from) and cost breakdown by usage type' })
  @ApiOkResponse({ type: UsageRecordView })
  record(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<UsageRecordView> {
    return this.bus.request('metering.v1.records.get', envelopeFor(p, { id }));
  }

  @Get('unpriced')
  @ApiOperation({ summary: 'Unpriced usage records with their reason (no matching definition, no price in force, a missing price, usage missing), newest first' })
  @ApiOkResponse({ type: UsageRecordsPageView })
  unpriced(@CurrentPrincipal() p: Principal, @Query() query: UsageRecordsQueryDto): Promise<UsageRecordsPageView> {
    return this.bus.request('metering.v1.records.list', envelopeFor(p, { ...query, priced: 'false' as const }));
  }

  @Post('unpriced/reprice')
  @HttpCode(200)
  @ApiOperation({ summary: 'Price the unpriced records again with the definitions as they are now; answers every record it changed (audited)' })
  @ApiOkResponse({ type: RepriceResultView })
  reprice(@CurrentPrincipal() p: Principal): Promise<RepriceResultView> {
    return this.bus.request('metering.v1.unpriced.reprice', envelopeFor(p, {}));
  }

  private report(p: Principal, query: CostsQueryDto): Promise<CostReportView> {
    return this.bus.request('metering.v1.costs.report', envelopeFor(p, { from: query.from, to: query.to, groupBy: query.groupBy }));
  }
}
