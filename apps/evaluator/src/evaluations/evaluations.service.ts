import { Injectable } from '@nestjs/common';
import {
  AppError,
  ErrorCode,
  type CommandEnvelope,
  type CompareRunsInput,
  type CreateEvaluationRunDto,
  type EvaluationResultsInput,
  type EvaluationResultView,
  type EvaluationRunView,
  type IdInput,
  type ListInput,
  type Page,
  type RowComparisonView,
  type RunComparisonView,
  type TenantScope,
} from '#libs/contracts';
import { newId } from '#libs/db';
import { ownerOfNewRow } from '#libs/tenancy';
import { decodeCreatedCursor, encodeCreatedCursor, rowIndexCursor } from '../common/page-cursor.js';
import { DatasetsRepository } from '../datasets/datasets.repository.js';
import { TraceCosts } from '../gateway/trace-costs.js';
import { EvaluationRunner } from './evaluation-runner.js';
import { EvaluationsRepository, type RunRow } from './evaluations.repository.js';
import { scorerName, scorerProblems, type RowScore } from './scorers.js';

/** Trace ids asked of metering per request. */
const COST_BATCH = 500;
const COMPARE_PAGE = 500;

@Injectable()
export class EvaluationsService {
  constructor(
    private readonly repo: EvaluationsRepository,
    private readonly datasets: DatasetsRepository,
    private readonly runner: EvaluationRunner,
    private readonly costs: TraceCosts,
  ) {}

  /** Checks the run, pins the dataset version, stores the run as running and starts it in the background. */
  async create(command: CommandEnvelope<CreateEvaluationRunDto>): Promise<EvaluationRunView> {
    const { scope, actor, input } = command;
    const problems = scorerProblems(input.scorers);
    if (problems.length > 0) throw AppError.validation(problems);
    const dataset = await this.datasets.find(scope, input.datasetId);
    if (!dataset) throw AppError.notFound('dataset', input.datasetId);
    const version = input.datasetVersion ?? dataset.version;
    if (version < 1 || version > dataset.version) {
      throw AppError.validation([{ field: 'datasetVersion', messages: [`dataset ${dataset.id} has rows in versions 1 to ${dataset.version}`] }]);
    }
    // The run belongs to the caller's scope: its calls are made with a token acting as the caller, in that scope.
    const owner = ownerOfNewRow(scope, undefined);
    const run = await this.repo.insertRun({
      id: newId('evr'),
      organisation_id: owner.organisationId,
      project_id: owner.projectId,
      actor_key_id: actor.keyId,
      actor_name: actor.name,
      name: input.name ?? null,
      dataset_id: dataset.id,
      dataset_version: version,
      task: input.task,
      scorers: input.scorers,
      concurrency: input.concurrency ?? 4,
      status: 'running',
      rows_total: await this.datasets.countRows(dataset.id, version),
    });
    this.runner.start(run.id);
    return this.view(run);
  }

  async list(scope: TenantScope, input: ListInput): Promise<Page<EvaluationRunView>> {
    const limit = Math.min(Math.max(input.limit ?? 50, 1), 200);
    const after = input.cursor ? decodeCreatedCursor(input.cursor) : undefined;
    const rows = await this.repo.list(scope, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: await Promise.all(page.map((r) => this.view(r, false))),
      nextCursor: rows.length > limit && last ? encodeCreatedCursor(last) : null,
    };
  }

  async get(scope: TenantScope, id: string): Promise<EvaluationRunView> {
    const run = await this.found(scope, id);
    // Progress polls of a running run do not ask metering for every row; a finished run's total is completed on read.
    if (run.status !== 'running') await this.fillCosts(run);
    return this.view(run);
  }

  async cancel(command: CommandEnvelope<IdInput>): Promise<EvaluationRunView> {
    const run = await this.found(command.scope, command.input.id);
    if (run.status !== 'running') throw new AppError(ErrorCode.Conflict, `run ${run.id} is ${run.status}, not running`);
    await this.repo.finish(run.id, 'cancelled');
    this.runner.cancel(run.id);
    return this.view((await this.repo.findById(run.id))!);
  }

  async results(scope: TenantScope, input: EvaluationResultsInput): Promise<Page<EvaluationResultView>> {
    const run = await this.found(scope, input.id);
    const limit = Math.min(Math.max(input.limit ?? 50, 1), 200);
    const after = rowIndexCursor(input.cursor);
    await this.fillCosts(run, after, limit);
    const rows = await this.repo.results(run.id, after, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => ({
        rowIndex: r.row_index,
        input: r.input,
        expected: r.expected,
        output: r.output,
        error: r.error,
        scores: r.scores,
        latencyMs: r.latency_ms,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        traceId: r.trace_id,
        cost: r.cost,
      })),
      nextCursor: rows.length > limit ? String(page.at(-1)!.row_index) : null,
    };
  }

  /**
   * Runs on one dataset side by side, the first as the baseline. A row improved when a later run
   * scores higher on at least one score and lower on none; regressed the other way round; mixed
   * when both. Rows are read a page at a time, so counting over a large dataset stays bounded.
   */
  async compare(scope: TenantScope, input: CompareRunsInput): Promise<RunComparisonView> {
    const runs = await Promise.all(input.runIds.map((id) => this.found(scope, id)));
    const datasetId = runs[0]!.dataset_id;
    const other = runs.find((r) => r.dataset_id !== datasetId);
    if (other) throw AppError.validation([{ field: 'runIds', messages: [`run ${other.id} is on dataset ${other.dataset_id}, not ${datasetId}`] }]);
    const names = [...new Set(runs.flatMap((r) => r.scorers.map(scorerName)))].sort();
    const limit = Math.min(Math.max(input.limit ?? 200, 1), 1000);
    const start = rowIndexCursor(input.cursor);
    const counts = { improved: 0, regressed: 0, mixed: 0, unchanged: 0 };
    const listed: RowComparisonView[] = [];
    let nextCursor: string | null = null;
    for (let after = 0; ; ) {
      const indexes = await this.repo.resultIndexes(input.runIds, after, COMPARE_PAGE);
      if (indexes.length === 0) break;
      after = indexes.at(-1)!;
      const results = await this.repo.resultsAt(input.runIds, indexes);
      const byRow = new Map<number, Map<string, (typeof results)[number]>>();
      for (const r of results) {
        if (!byRow.has(r.row_index)) byRow.set(r.row_index, new Map());
        byRow.get(r.row_index)!.set(r.run_id, r);
      }
      const differing: RowComparisonView[] = [];
      for (const index of indexes) {
        const perRun = input.runIds.map((id) => byRow.get(index)?.get(id));
        const scores: Record<string, (number | null)[]> = {};
        const deltas: Record<string, (number | null)[]> = {};
        let up = false;
        let down = false;
        for (const name of names) {
          scores[name] = perRun.map((r) => scoreOf(r?.scores, name));
          const base = scores[name]![0]!;
          deltas[name] = scores[name]!.slice(1).map((s) => (s === null || base === null ? null : round(s - base)));
          for (const d of deltas[name]!) {
            if (d !== null && d > 0) up = true;
            if (d !== null && d < 0) down = true;
          }
        }
        const change = up && down ? 'mixed' : up ? 'improved' : down ? 'regressed' : 'unchanged';
        counts[change]++;
        const outputs = perRun.map((r) => r?.output ?? null);
        const outputsDiffer = outputs.some((o) => o !== outputs[0]);
        if ((change !== 'unchanged' || outputsDiffer) && index > start) differing.push({ rowIndex: index, input: null, outputs, scores, deltas, change });
      }
      const room = limit - listed.length;
      if (room > 0) {
        const take = differing.slice(0, room);
        const inputs = await this.repo.inputsAt(datasetId, take.map((d) => d.rowIndex));
        for (const d of take) listed.push({ ...d, input: inputs.get(d.rowIndex) ?? null });
        if (differing.length > room) nextCursor = String(listed.at(-1)!.rowIndex);
      } else if (differing.length > 0 && nextCursor === null) nextCursor = String(listed.at(-1)!.rowIndex);
    }
    return {
      runIds: input.runIds,
      datasetId,
      runs: await Promise.all(runs.map((r) => this.view(r))),
      ...counts,
      rows: listed,
      nextCursor,
    };
  }

  private async found(scope: TenantScope, id: string): Promise<RunRow> {
    const run = await this.repo.find(scope, id);
    if (!run) throw AppError.notFound('evaluation run', id);
    return run;
  }

  /**
   * Costs come from metering, priced from the spans of the row's trace some time after the row
   * finished; they are asked for lazily when results are read, and kept once every call of the
   * row (task and judges) is priced.
   */
  private async fillCosts(run: RunRow, afterIndex = 0, limit = Number.MAX_SAFE_INTEGER): Promise<void> {
    const scope = { organisationId: run.organisation_id, projectId: run.project_id };
    let after = afterIndex;
    for (let seen = 0; seen < limit; ) {
      const pending = await this.repo.unpricedTraces(run.id, after, Math.min(COST_BATCH, limit - seen));
      if (pending.length === 0) return;
      seen += pending.length;
      after = pending.at(-1)!.row_index;
      const byTrace = await this.costs.lookup(scope, { keyId: run.actor_key_id, name: run.actor_name }, pending.map((p) => p.trace_id));
      if (byTrace.size === 0) return; // nothing priced yet (or metering unreachable): the read still answers
      const priced = pending.flatMap((p) => {
        const t = byTrace.get(p.trace_id);
        return t && t.cost !== null && t.unpricedCalls === 0 && t.calls >= p.expected_calls ? [{ rowIndex: p.row_index, cost: t.cost }] : [];
      });
      await this.repo.setCosts(run.id, priced);
    }
  }

  private async view(run: RunRow, withScores = true): Promise<EvaluationRunView> {
    const progress = await this.repo.progress(run.id);
    const stats = withScores ? await this.repo.scoreStats(run.id) : [];
    return {
      id: run.id,
      organisationId: run.organisation_id,
      projectId: run.project_id,
      name: run.name,
      datasetId: run.dataset_id,
      datasetVersion: run.dataset_version,
      task: run.task,
      scorers: run.scorers,
      concurrency: run.concurrency,
      status: run.status,
      rowsTotal: run.rows_total,
      rowsDone: progress.done,
      rowsErrored: progress.errored,
      scores: stats.map((s) => ({ ...s, mean: s.mean === null ? null : round(Number(s.mean)) })),
      totalCost: progress.cost,
      rowsUnpriced: progress.unpriced,
      createdAt: new Date(run.created_at).toISOString(),
      finishedAt: run.finished_at ? new Date(run.finished_at).toISOString() : null,
    };
  }
}

function scoreOf(scores: RowScore[] | undefined, name: string): number | null {
  return scores?.find((s) => s.name === name)?.score ?? null;
}

/** Scores are fractions; twelve digits keep 0.1 + 0.2 from showing as 0.30000000000000004. */
function round(n: number): number {
  return Math.round(n * 1e12) / 1e12;
}
