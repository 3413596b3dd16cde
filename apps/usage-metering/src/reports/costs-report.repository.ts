import { Injectable } from '@nestjs/common';
import type { CostGrouping, TenantScope } from '#libs/contracts';
import { DataSource } from 'typeorm';

/** What a group is called when the grouped column is empty (organisation-wide calls, calls without a key). */
export const NO_GROUP_KEY = '(none)';

/** SQL per grouping, over a row with the record's columns and its time as `t`; fixed strings, never built from input. */
const GROUP_EXPRESSION: Readonly<Record<CostGrouping, string>> = {
  model: `COALESCE(NULLIF(model, ''), '${NO_GROUP_KEY}')`,
  project: `COALESCE(project_id, '${NO_GROUP_KEY}')`,
  key: `COALESCE(key_id, '${NO_GROUP_KEY}')`,
  provider: `COALESCE(provider, '${NO_GROUP_KEY}')`,
  connection: `COALESCE(connection_id, '${NO_GROUP_KEY}')`,
  provider_model: `COALESCE(provider_model, '${NO_GROUP_KEY}')`,
  user: `COALESCE(user_id, '${NO_GROUP_KEY}')`,
  day: `to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  hour: `to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00Z"')`,
};

const HOUR_MS = 3600 * 1000;

/**
 * The sums of one record, named as the rollup's columns (migration UsageRollups1796660000000 sums
 * the same expressions): the window's edges that are not whole hours are read from the records.
 */
const RECORD_SUMS = `started_at AS t, model, project_id, key_id, provider, connection_id, provider_model, user_id,
       1 AS requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
       CASE WHEN priced THEN cost ELSE 0 END AS cost,
       CASE WHEN NOT priced AND usage_status <> 'missing' THEN 1 ELSE 0 END AS unpriced_requests,
       CASE WHEN usage_status = 'missing' THEN 1 ELSE 0 END AS missing_usage_requests,
       CASE WHEN usage_status = 'partial' THEN 1 ELSE 0 END AS partial_usage_requests,
       CASE WHEN error_type IS NOT NULL THEN 1 ELSE 0 END AS error_requests,
       CASE WHEN estimated THEN 1 ELSE 0 END AS estimated_requests`;

const ROLLUP_SUMS = `hour AS t, model, project_id, key_id, provider, connection_id, provider_model, user_id,
       requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost,
       unpriced_requests, missing_usage_requests, partial_usage_requests, error_requests, estimated_requests`;

/** Time groupings read in time order; the others most expensive first. */
const TIME_GROUPINGS: ReadonlySet<CostGrouping> = new Set(['day', 'hour']);

export interface CostGroupRow {
  key: string;
  /** Counts and sums as Postgres writes them (strings): bigint and numeric never pass through a float here. */
  requests: string;
  inputTokens: string;
  cachedInputTokens: string;
  cacheWriteTokens: string;
  outputTokens: string;
  reasoningTokens: string;
  cost: string;
  unpricedRequests: string;
  missingUsageRequests: string;
  partialUsageRequests: string;
  errorRequests: string;
  estimatedRequests: string;
}

export interface CostsWindow {
  from: Date;
  to: Date;
  groupBy: CostGrouping;
}

/**
 * Cost sums over usage_records, scoped by construction: always the caller's organisation, and for a
 * project-scoped caller only that project's records (its usage, not the organisation's).
 */
@Injectable()
export class CostsReportRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The whole hours of the window are read from usage_rollups (one row per organisation, hour and
   * dimensions, kept in the records' own transactions), the partial hours at its edges from
   * usage_records; both give the same sums, so the answer equals a sum over the records exactly.
   */
  async groups(scope: TenantScope, window: CostsWindow): Promise<CostGroupRow[]> {
    const from = window.from.getTime();
    const to = window.to.getTime();
    const hoursFrom = Math.ceil(from / HOUR_MS) * HOUR_MS;
    const hoursTo = Math.floor(to / HOUR_MS) * HOUR_MS;
    const params: unknown[] = [scope.organisationId];
    const param = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const projectFilter = scope.projectId !== null ? ` AND project_id = ${param(scope.projectId)}` : '';
    const parts: string[] = [];
    const records = (start: number, end: number): void => {
      if (start < end) {
        parts.push(
          `SELECT ${RECORD_SUMS} FROM usage_records WHERE organisation_id = $1${projectFilter} AND started_at >= ${param(new Date(start).toISOString())} AND started_at < ${param(new Date(end).toISOString())}`,
        );
      }
    };
    if (hoursFrom < hoursTo) {
      records(from, hoursFrom);
      parts.push(
        `SELECT ${ROLLUP_SUMS} FROM usage_rollups WHERE organisation_id = $1${projectFilter} AND hour >= ${param(new Date(hoursFrom).toISOString())} AND hour < ${param(new Date(hoursTo).toISOString())}`,
      );
      records(hoursTo, to);
    } else {
      records(from, to);
    }
    if (parts.length === 0) return [];
    // Sums in numeric (exact); an unpriced or usage-missing call is counted, its (absent) cost is not.
    // Unpriced and usage-missing are apart: a definition can price the first, never the second.
    // A rollup row a re-pricing emptied (every call moved out of it) counts no requests: left out.
    return this.dataSource.query(
      `SELECT ${GROUP_EXPRESSION[window.groupBy]} AS "key",
              sum(requests)::text AS "requests",
              sum(input_tokens)::text AS "inputTokens",
              sum(cache_read_tokens)::text AS "cachedInputTokens",
              sum(cache_write_tokens)::text AS "cacheWriteTokens",
              sum(output_tokens)::text AS "outputTokens",
              sum(reasoning_tokens)::text AS "reasoningTokens",
              sum(cost)::text AS "cost",
              sum(unpriced_requests)::text AS "unpricedRequests",
              sum(missing_usage_requests)::text AS "missingUsageRequests",
              sum(partial_usage_requests)::text AS "partialUsageRequests",
              sum(error_requests)::text AS "errorRequests",
              sum(estimated_requests)::text AS "estimatedRequests"
         FROM (${parts.join(' UNION ALL ')}) AS u
        GROUP BY 1
       HAVING sum(requests) > 0
        ORDER BY ${TIME_GROUPINGS.has(window.groupBy) ? '1 ASC' : 'sum(cost) DESC, 1 ASC'}`,
      params,
    );
  }
}
