import { Body, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { AppError, CompareRunsQueryDto, CreateEvaluationRunDto, EvaluationResultView, EvaluationRunView, RunComparisonView } from '#libs/contracts';
import { ListQueryDto, PageOf } from '../admin/list-query.dto.js';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';

/**
 * Evaluation runs (issue 18): dataset x task x scorers, run by the evaluator in the background. The
 * evaluator calls /v1 with a delegated token acting as the admin who started the run (never the
 * admin's key: see apps/gateway/src/delegation/delegated-tokens.ts).
 */
@ApiTags('evaluations')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/evaluations')
export class EvaluationsController {
  constructor(private readonly bus: BusClient) {}

  @Post()
  @ApiOperation({ summary: 'Start a run of a task and scorers over a dataset version; answers at once with the run, which runs in the background' })
  @ApiCreatedResponse({ type: EvaluationRunView })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateEvaluationRunDto): Promise<EvaluationRunView> {
    return this.bus.request('evaluator.v1.evaluations.create', envelopeFor(p, body));
  }

  @Get()
  @ApiOkResponse({ type: PageOf(EvaluationRunView) })
  list(@CurrentPrincipal() p: Principal, @Query() query: ListQueryDto) {
    return this.bus.request('evaluator.v1.evaluations.list', envelopeFor(p, { limit: query.limit, cursor: query.cursor }));
  }

  @Get('compare')
  @ApiOperation({ summary: 'Compare two or more runs on the same dataset: per-row score differences against the first run, rows improved and regressed' })
  @ApiOkResponse({ type: RunComparisonView })
  compare(@CurrentPrincipal() p: Principal, @Query() query: CompareRunsQueryDto): Promise<RunComparisonView> {
    const runIds = query.runIds.split(',').map((id) => id.trim()).filter((id) => id !== '');
    if (runIds.length < 2 || runIds.length > 10 || new Set(runIds).size !== runIds.length) {
      throw AppError.validation([{ field: 'runIds', messages: ['runIds must name 2 to 10 different runs, comma-separated'] }]);
    }
    return this.bus.request('evaluator.v1.evaluations.compare', envelopeFor(p, { runIds, limit: query.limit, cursor: query.cursor }), 60_000);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A run with its progress (rows done / total, errors), score means and distributions, and cost so far' })
  @ApiOkResponse({ type: EvaluationRunView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<EvaluationRunView> {
    return this.bus.request('evaluator.v1.evaluations.get', envelopeFor(p, { id }));
  }

  @Get(':id/results')
  @ApiOperation({ summary: 'Per-row results in row order: output, scores (with the judge\'s reasoning), latency, tokens and cost' })
  @ApiOkResponse({ type: PageOf(EvaluationResultView) })
  results(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() query: ListQueryDto) {
    return this.bus.request('evaluator.v1.evaluations.results', envelopeFor(p, { id, limit: query.limit, cursor: query.cursor }));
  }

  @Post(':id/cancel')
  @ApiOperation({ summary: 'Stop a running run; finished rows are kept' })
  @ApiCreatedResponse({ type: EvaluationRunView })
  cancel(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<EvaluationRunView> {
    return this.bus.request('evaluator.v1.evaluations.cancel', envelopeFor(p, { id }));
  }
}
