import { Injectable } from '@nestjs/common';
import type { EvaluationRunStatus, EvaluationTaskDto, ScorerDto, TenantScope } from '#libs/contracts';
import { DataSource } from 'typeorm';
import type { StoredRow } from '../datasets/datasets.repository.js';
import type { CreatedCursor } from '../common/page-cursor.js';
import { scopeClause, scopedPage } from '../common/tenant-sql.js';
import type { RowScore } from './scorers.js';

export interface RunRow {
  id: string;
  organisation_id: string;
  project_id: string | null;
  actor_key_id: string;
  actor_name: string;
  name: string | null;
  dataset_id: string;
  dataset_version: number;
  task: EvaluationTaskDto;
  scorers: ScorerDto[];
  concurrency: number;
  status: EvaluationRunStatus;
  rows_total: number;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

export interface ResultRow {
  run_id: string;
  row_index: number;
  output: string | null;
  error: string | null;
  scores: RowScore[];
  latency_ms: number;
  input_tokens: number | null;
  output_tokens: number | null;
  trace_id: string;
  expected_calls: number;
  cost: string | null;
  priced: boolean;
}

export interface RunProgress {
  done: number;
  errored: number;
  cost: string | null;
  unpriced: number;
}

export interface ScoreStats {
  name: string;
  count: number;
  errors: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  histogram: number[];
}

/** Evaluation runs and their per-row results; reads are scoped to the tenant, the runner's writes go by run id. */
@Injectable()
export class EvaluationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insertRun(r: Omit<RunRow, 'created_at' | 'finished_at' | 'error'>): Promise<RunRow> {
    const rows = (await this.dataSource.query(
      `INSERT INTO evaluation_runs (id, organisation_id, project_id, actor_key_id, actor_name, name, dataset_id, dataset_version, task, scorers, concurrency, status, rows_total)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $13) RETURNING *`,
      [r.id, r.organisation_id, r.project_id, r.actor_key_id, r.actor_name, r.name, r.dataset_id, r.dataset_version, JSON.stringify(r.task), JSON.stringify(r.scorers), r.concurrency, r.status, r.rows_total],
    )) as RunRow[];
    return rows[0]!;
  }

  async find(scope: TenantScope, id: string): Promise<RunRow | undefined> {
    const params: unknown[] = [id];
    return ((await this.dataSource.query(`SELECT * FROM evaluation_runs WHERE id = $1 AND ${scopeClause(scope, params)}`, params)) as RunRow[])[0];
  }

  async findById(id: string): Promise<RunRow | undefined> {
    return ((await this.dataSource.query(`SELECT * FROM evaluation_runs WHERE id = $1`, [id])) as RunRow[])[0];
  }

  list(scope: TenantScope, limit: number, after?: CreatedCursor): Promise<RunRow[]> {
    return scopedPage<RunRow>(this.dataSource, 'evaluation_runs', scope, limit, after);
  }

  /**
   * Takes the lease of running runs nobody holds (or whose holder stopped renewing), or of one run
   * by id: only the replica holding a run's lease runs it, so two never call the upstream for the
   * same rows. Returns the ids taken.
   */
  async claim(owner: string, leaseMs: number, id?: string): Promise<string[]> {
    const rows = (await this.dataSource.query(
      `UPDATE evaluation_runs SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond'
        WHERE status = 'running' AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $1) AND ($3::text IS NULL OR id = $3)
        RETURNING id`,
      [owner, leaseMs, id ?? null],
    )) as [{ id: string }[], number];
    return rows[0].map((r) => r.id);
  }

  /** Extends the leases `owner` holds on runs still running; returns those ids (a run cancelled elsewhere drops out). */
  async renew(owner: string, leaseMs: number, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = (await this.dataSource.query(
      `UPDATE evaluation_runs SET lease_until = now() + $2 * interval '1 millisecond' WHERE lease_owner = $1 AND id = ANY($3) AND status = 'running' RETURNING id`,
      [owner, leaseMs, ids],
    )) as [{ id: string }[], number];
    return rows[0].map((r) => r.id);
  }

  /** Gives the leases back (on shutdown), so a restarted evaluator resumes at once. */
  async release(owner: string): Promise<void> {
    await this.dataSource.query(`UPDATE evaluation_runs SET lease_until = NULL WHERE lease_owner = $1`, [owner]);
  }

  /** Moves a running run to its end state; false when it was not running any more (e.g. cancelled meanwhile). */
  async finish(id: string, status: Exclude<EvaluationRunStatus, 'running'>, error: string | null = null): Promise<boolean> {
    const [, count] = (await this.dataSource.query(
      `UPDATE evaluation_runs SET status = $2, error = $3, finished_at = now() WHERE id = $1 AND status = 'running'`,
      [id, status, error],
    )) as [unknown, number];
    return count > 0;
  }

  async status(id: string): Promise<EvaluationRunStatus | undefined> {
    return ((await this.dataSource.query(`SELECT status FROM evaluation_runs WHERE id = $1`, [id])) as { status: EvaluationRunStatus }[])[0]?.status;
  }

  /** The next rows of the run's dataset version that have no result yet, in row order (a page at a time: memory stays bounded). */
  async pendingRows(run: RunRow, afterIndex: number, limit: number): Promise<StoredRow[]> {
    return (await this.dataSource.query(
      `SELECT r.row_index, r.version, r.input, r.expected, r.metadata FROM dataset_rows r
        WHERE r.dataset_id = $1 AND r.version <= $2 AND r.row_index > $3
          AND NOT EXISTS (SELECT 1 FROM evaluation_results e WHERE e.run_id = $4 AND e.row_index = r.row_index)
        ORDER BY r.row_index LIMIT $5`,
      [run.dataset_id, run.dataset_version, afterIndex, run.id, limit],
    )) as StoredRow[];
  }

  /** A row's result, kept as soon as the row finishes; a second one for the same row is ignored. */
  async insertResult(r: Omit<ResultRow, 'cost' | 'priced'>): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO evaluation_results (run_id, row_index, output, error, scores, latency_ms, input_tokens, output_tokens, trace_id, expected_calls)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10) ON CONFLICT (run_id, row_index) DO NOTHING`,
      [r.run_id, r.row_index, r.output, r.error, JSON.stringify(r.scores), r.latency_ms, r.input_tokens, r.output_tokens, r.trace_id, r.expected_calls],
    );
  }

  async progress(runId: string): Promise<RunProgress> {
    const rows = (await this.dataSource.query(
      `SELECT count(*)::int AS done, count(*) FILTER (WHERE error IS NOT NULL)::int AS errored,
              sum(cost)::text AS cost, count(*) FILTER (WHERE NOT priced)::int AS unpriced
         FROM evaluation_results WHERE run_id = $1`,
      [runId],
    )) as RunProgress[];
    return rows[0]!;
  }

  /** Mean, range and a ten-bucket histogram of each score of the run, computed in the database. */
  async scoreStats(runId: string): Promise<ScoreStats[]> {
    const scores = `SELECT e->>'name' AS name, (e->>'score')::float8 AS score, coalesce(e->>'error', '') <> '' AS failed
                      FROM evaluation_results, jsonb_array_elements(scores) e WHERE run_id = $1`;
    const stats = (await this.dataSource.query(
      `SELECT name, count(score)::int AS count, count(*) FILTER (WHERE failed)::int AS errors, avg(score) AS mean, min(score) AS min, max(score) AS max
         FROM (${scores}) s GROUP BY name ORDER BY name`,
      [runId],
    )) as Omit<ScoreStats, 'histogram'>[];
    const buckets = (await this.dataSource.query(
      `SELECT name, least(greatest(floor(score * 10), 0), 9)::int AS bucket, count(*)::int AS n FROM (${scores}) s WHERE score IS NOT NULL GROUP BY 1, 2`,
      [runId],
    )) as { name: string; bucket: number; n: number }[];
    return stats.map((st) => {
      const histogram = new Array<number>(10).fill(0);
      for (const b of buckets) if (b.name === st.name) histogram[b.bucket] = b.n;
      return { ...st, histogram };
    });
  }

  async results(runId: string, afterIndex: number, limit: number): Promise<(ResultRow & { input: unknown; expected: unknown })[]> {
    return (await this.dataSource.query(
      `SELECT e.*, r.input, r.expected FROM evaluation_results e
         JOIN evaluation_runs run ON run.id = e.run_id
         JOIN dataset_rows r ON r.dataset_id = run.dataset_id AND r.row_index = e.row_index
        WHERE e.run_id = $1 AND e.row_index > $2 ORDER BY e.row_index LIMIT $3`,
      [runId, afterIndex, limit],
    )) as (ResultRow & { input: unknown; expected: unknown })[];
  }

  /** Results metering has not priced yet (their trace ids), a page at a time. */
  async unpricedTraces(runId: string, afterIndex: number, limit: number): Promise<{ row_index: number; trace_id: string; expected_calls: number }[]> {
    return (await this.dataSource.query(
      `SELECT row_index, trace_id, expected_calls FROM evaluation_results WHERE run_id = $1 AND NOT priced AND row_index > $2 ORDER BY row_index LIMIT $3`,
      [runId, afterIndex, limit],
    )) as { row_index: number; trace_id: string; expected_calls: number }[];
  }

  async setCosts(runId: string, costs: { rowIndex: number; cost: string }[]): Promise<void> {
    if (costs.length === 0) return;
    await this.dataSource.query(
      `UPDATE evaluation_results e SET cost = c.cost::numeric, priced = true
         FROM unnest($2::int[], $3::text[]) AS c(row_index, cost) WHERE e.run_id = $1 AND e.row_index = c.row_index`,
      [runId, costs.map((c) => c.rowIndex), costs.map((c) => c.cost)],
    );
  }

  /** Row indexes that have a result in any of the runs, after `afterIndex`, in order. */
  async resultIndexes(runIds: string[], afterIndex: number, limit: number): Promise<number[]> {
    const rows = (await this.dataSource.query(
      `SELECT DISTINCT row_index FROM evaluation_results WHERE run_id = ANY($1) AND row_index > $2 ORDER BY row_index LIMIT $3`,
      [runIds, afterIndex, limit],
    )) as { row_index: number }[];
    return rows.map((r) => r.row_index);
  }

  async resultsAt(runIds: string[], indexes: number[]): Promise<Pick<ResultRow, 'run_id' | 'row_index' | 'output' | 'error' | 'scores'>[]> {
    return (await this.dataSource.query(
      `SELECT run_id, row_index, output, error, scores FROM evaluation_results WHERE run_id = ANY($1) AND row_index = ANY($2::int[])`,
      [runIds, indexes],
    )) as Pick<ResultRow, 'run_id' | 'row_index' | 'output' | 'error' | 'scores'>[];
  }

  async inputsAt(datasetId: string, indexes: number[]): Promise<Map<number, unknown>> {
    const rows = (await this.dataSource.query(`SELECT row_index, input FROM dataset_rows WHERE dataset_id = $1 AND row_index = ANY($2::int[])`, [datasetId, indexes])) as {
      row_index: number;
      input: unknown;
    }[];
    return new Map(rows.map((r) => [r.row_index, r.input]));
  }
}
