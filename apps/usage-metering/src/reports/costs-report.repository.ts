import { Injectable } from '@nestjs/common';
import type { CostGrouping, TenantScope } from '#libs/contracts';
import { DataSource } from 'typeorm';

/** What a group is called when the grouped column is empty (organisation-wide calls, calls without a key). */
export const NO_GROUP_KEY = '(none)';

/** SQL per grouping; fixed strings, never built from input. */
const GROUP_EXPRESSION: Readonly<Record<CostGrouping, string>> = {
  model: `COALESCE(NULLIF(model, ''), '${NO_GROUP_KEY}')`,
  project: `COALESCE(project_id, '${NO_GROUP_KEY}')`,
  key: `COALESCE(key_id, '${NO_GROUP_KEY}')`,
  provider: `COALESCE(provider, '${NO_GROUP_KEY}')`,
  connection: `COALESCE(connection_id, '${NO_GROUP_KEY}')`,
  provider_model: `COALESCE(provider_model, '${NO_GROUP_KEY}')`,
  user: `COALESCE(user_id, '${NO_GROUP_KEY}')`,
  day: `to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  hour: `to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00Z"')`,
};

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

  async groups(scope: TenantScope, window: CostsWindow): Promise<CostGroupRow[]> {
    const params: unknown[] = [scope.organisationId, window.from.toISOString(), window.to.toISOString()];
    let where = 'organisation_id = $1 AND started_at >= $2 AND started_at < $3';
    if (scope.projectId !== null) {
      params.push(scope.projectId);
      where += ` AND project_id = $${params.length}`;
    }
    // Sums in numeric (exact); an unpriced or usage-missing call is counted, its (absent) cost is not.
    // Unpriced and usage-missing are apart: a definition can price the first, never the second.
    return this.dataSource.query(
      `SELECT ${GROUP_EXPRESSION[window.groupBy]} AS "key",
              count(*)::text AS "requests",
              sum(input_tokens)::text AS "inputTokens",
              sum(cache_read_tokens)::text AS "cachedInputTokens",
              sum(cache_write_tokens)::text AS "cacheWriteTokens",
              sum(output_tokens)::text AS "outputTokens",
              sum(reasoning_tokens)::text AS "reasoningTokens",
              COALESCE(sum(cost) FILTER (WHERE priced), 0)::text AS "cost",
              (count(*) FILTER (WHERE NOT priced AND usage_status <> 'missing'))::text AS "unpricedRequests",
              (count(*) FILTER (WHERE usage_status = 'missing'))::text AS "missingUsageRequests",
              (count(*) FILTER (WHERE usage_status = 'partial'))::text AS "partialUsageRequests",
              (count(*) FILTER (WHERE error_type IS NOT NULL))::text AS "errorRequests",
              (count(*) FILTER (WHERE estimated))::text AS "estimatedRequests"
         FROM usage_records
        WHERE ${where}
        GROUP BY 1
        ORDER BY ${TIME_GROUPINGS.has(window.groupBy) ? '1 ASC' : 'COALESCE(sum(cost) FILTER (WHERE priced), 0) DESC, 1 ASC'}`,
      params,
    );
  }
}
