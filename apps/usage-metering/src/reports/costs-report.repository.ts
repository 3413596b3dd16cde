import { Injectable } from '@nestjs/common';
import type { CostGrouping, TenantScope } from '#libs/contracts';
import { DataSource } from 'typeorm';

/** What a group is called when the grouped column is empty (organisation-wide calls, calls without a key). */
export const NO_GROUP_KEY = '(none)';

/**
 * Per grouping: the rollup dimension it reads (migration UsageRollups1796670000000), the record
 * column that dimension sums one value of, and the group's name in SQL over a row of `t` (the
 * time), `project_id` and `value`; fixed strings, never built from input.
 */
const GROUPING: Readonly<Record<CostGrouping, { dimension: string; column: string; key: string }>> = {
  model: { dimension: 'model', column: 'model', key: `COALESCE(NULLIF(value, ''), '${NO_GROUP_KEY}')` },
  project: { dimension: 'none', column: 'NULL::text', key: `COALESCE(project_id, '${NO_GROUP_KEY}')` },
  key: { dimension: 'key', column: 'key_id', key: `COALESCE(value, '${NO_GROUP_KEY}')` },
  provider: { dimension: 'provider', column: 'provider', key: `COALESCE(value, '${NO_GROUP_KEY}')` },
  connection: { dimension: 'connection', column: 'connection_id', key: `COALESCE(value, '${NO_GROUP_KEY}')` },
  provider_model: { dimension: 'provider_model', column: 'provider_model', key: `COALESCE(value, '${NO_GROUP_KEY}')` },
  user: { dimension: 'user', column: 'user_id', key: `COALESCE(value, '${NO_GROUP_KEY}')` },
  day: { dimension: 'none', column: 'NULL::text', key: `to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD')` },
  hour: { dimension: 'none', column: 'NULL::text', key: `to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00Z"')` },
};

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** The sums of one record, named as the rollup's columns (the migration sums the same expressions). */
const RECORD_SUMS = `1 AS requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
       CASE WHEN priced THEN cost ELSE 0 END AS cost,
       CASE WHEN NOT priced AND usage_status <> 'missing' THEN 1 ELSE 0 END AS unpriced_requests,
       CASE WHEN usage_status = 'missing' THEN 1 ELSE 0 END AS missing_usage_requests,
       CASE WHEN usage_status = 'partial' THEN 1 ELSE 0 END AS partial_usage_requests,
       CASE WHEN error_type IS NOT NULL THEN 1 ELSE 0 END AS error_requests,
       CASE WHEN estimated THEN 1 ELSE 0 END AS estimated_requests,
       CASE WHEN cache_hit THEN 1 ELSE 0 END AS cache_hit_requests`;

const ROLLUP_SUMS = `requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost,
       unpriced_requests, missing_usage_requests, partial_usage_requests, error_requests, estimated_requests, cache_hit_requests`;

/** A piece of a report window and where its sums are read: the records, hourly or daily rollups. */
export interface WindowPart {
  source: 'records' | 'hour' | 'day';
  from: number;
  to: number;
}

/**
 * Splits [from, to) (ms) into the parts read from the records and from the rollups. With `hours`
 * (the project, day and hour groupings: the hourly rollup has their rows), the partial hours at
 * the edges come from the records, whole days (unless `days` is false: an hourly report) from the
 * daily rollup, the whole hours beside them from the hourly one. Without, the partial days at the
 * edges come from the records and the whole days from the daily rollup.
 */
export function windowParts(from: number, to: number, hours: boolean, days: boolean): WindowPart[] {
  const parts: WindowPart[] = [];
  const add = (source: WindowPart['source'], a: number, b: number): void => {
    if (a < b) parts.push({ source, from: a, to: b });
  };
  const unit = hours ? HOUR_MS : DAY_MS;
  const wholeFrom = Math.ceil(from / unit) * unit;
  const wholeTo = Math.floor(to / unit) * unit;
  if (wholeFrom >= wholeTo) {
    add('records', from, to);
    return parts;
  }
  add('records', from, wholeFrom);
  if (!hours) {
    add('day', wholeFrom, wholeTo);
  } else {
    const daysFrom = Math.ceil(wholeFrom / DAY_MS) * DAY_MS;
    const daysTo = Math.floor(wholeTo / DAY_MS) * DAY_MS;
    if (days && daysFrom < daysTo) {
      add('hour', wholeFrom, daysFrom);
      add('day', daysFrom, daysTo);
      add('hour', daysTo, wholeTo);
    } else {
      add('hour', wholeFrom, wholeTo);
    }
  }
  add('records', wholeTo, to);
  return parts;
}

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
  cacheHitRequests: string;
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
   * The window's whole days (and, for the project, day and hour groupings, hours) are read from
   * usage_rollups (kept in the records' own transactions), the rest at its edges from usage_records; both give the same sums, so
   * the answer equals a sum over the records exactly.
   */
  async groups(scope: TenantScope, window: CostsWindow): Promise<CostGroupRow[]> {
    const grouping = GROUPING[window.groupBy];
    const params: unknown[] = [scope.organisationId];
    const param = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const projectFilter = scope.projectId !== null ? ` AND project_id = ${param(scope.projectId)}` : '';
    const parts = windowParts(window.from.getTime(), window.to.getTime(), grouping.dimension === 'none', window.groupBy !== 'hour').map((part) => {
      const from = param(new Date(part.from).toISOString());
      const to = param(new Date(part.to).toISOString());
      return part.source === 'records'
        ? `SELECT started_at AS t, project_id, ${grouping.column} AS value, ${RECORD_SUMS} FROM usage_records
            WHERE organisation_id = $1${projectFilter} AND started_at >= ${from} AND started_at < ${to}`
        : `SELECT bucket AS t, project_id, value, ${ROLLUP_SUMS} FROM usage_rollups
            WHERE organisation_id = $1 AND dimension = '${grouping.dimension}' AND period = '${part.source}' AND bucket >= ${from} AND bucket < ${to}${projectFilter}`;
    });
    if (parts.length === 0) return [];
    // Sums in numeric (exact); an unpriced or usage-missing call is counted, its (absent) cost is not.
    // Unpriced and usage-missing are apart: a definition can price the first, never the second.
    // A rollup row whose calls all left it (a deletion) counts no requests: left out.
    return this.dataSource.query(
      `SELECT ${grouping.key} AS "key",
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
              sum(estimated_requests)::text AS "estimatedRequests",
              sum(cache_hit_requests)::text AS "cacheHitRequests"
         FROM (${parts.join(' UNION ALL ')}) AS u
        GROUP BY 1
       HAVING sum(requests) > 0
        ORDER BY ${TIME_GROUPINGS.has(window.groupBy) ? '1 ASC' : 'sum(cost) DESC, 1 ASC'}`,
      params,
    );
  }
}
