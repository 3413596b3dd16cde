import { Body, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { AddDatasetRowsDto, CreateDatasetDto, DatasetRowsQueryDto, DatasetRowView, DatasetUploadView, DatasetView, UploadDatasetRowsDto } from '#libs/contracts';
import { ListQueryDto, PageOf } from '../admin/list-query.dto.js';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';

/** Datasets of the evaluator (issue 18): forwarded over the bus; each batch of rows is a new version. */
@ApiTags('datasets')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/datasets')
export class DatasetsController {
  constructor(private readonly bus: BusClient) {}

  @Post()
  @ApiOperation({ summary: 'Create a dataset, optionally with its first rows (version 1)' })
  @ApiCreatedResponse({ type: DatasetView })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateDatasetDto): Promise<DatasetView> {
    return this.bus.request('evaluator.v1.datasets.create', envelopeFor(p, body));
  }

  @Get()
  @ApiOkResponse({ type: PageOf(DatasetView) })
  list(@CurrentPrincipal() p: Principal, @Query() query: ListQueryDto) {
    return this.bus.request('evaluator.v1.datasets.list', envelopeFor(p, { limit: query.limit, cursor: query.cursor }));
  }

  @Get(':id')
  @ApiOkResponse({ type: DatasetView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<DatasetView> {
    return this.bus.request('evaluator.v1.datasets.get', envelopeFor(p, { id }));
  }

  @Post(':id/rows')
  @ApiOperation({ summary: 'Append rows: a new version of the dataset (earlier versions keep their rows)' })
  @ApiCreatedResponse({ type: DatasetView })
  addRows(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: AddDatasetRowsDto): Promise<DatasetView> {
    return this.bus.request('evaluator.v1.datasets.add-rows', envelopeFor(p, { id, rows: body.rows }));
  }

  @Post(':id/uploads')
  @ApiOperation({
    summary: 'Append the rows of a JSONL or CSV file: a new version',
    description: 'Lines that are not valid rows are reported by line number with why; the other rows are kept.',
  })
  @ApiCreatedResponse({ type: DatasetUploadView })
  upload(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: UploadDatasetRowsDto): Promise<DatasetUploadView> {
    return this.bus.request('evaluator.v1.datasets.upload', envelopeFor(p, { id, format: body.format, content: body.content }), 60_000);
  }

  @Get(':id/rows')
  @ApiOperation({ summary: 'The rows of a version (default: the latest), in order' })
  @ApiOkResponse({ type: PageOf(DatasetRowView) })
  rows(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() query: DatasetRowsQueryDto) {
    return this.bus.request('evaluator.v1.datasets.rows', envelopeFor(p, { id, version: query.version, limit: query.limit, cursor: query.cursor }));
  }
}
