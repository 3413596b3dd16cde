import { Injectable } from '@nestjs/common';
import type { TenantScope, UsageStatus, UsageType } from '#libs/contracts';
import { DataSource } from 'typeorm';

/** One stored record as the listing reads it (bigint and numeric as Postgres writes them, strings). */
export interface UsageRecordRow {
  id: string;
  traceId: string;
  spanId: string;
  source: string;
  model: string;
  provider: string | null;
  connectionId: string | null;
  providerModel: string | null;
  projectId: string | null;
  keyId: string | null;
  userId: string | null;
  startedAt: Date;
  inputTokens: string;
  cachedInputTokens: string;
  cacheWriteTokens: string;
  outputTokens: string;
  reasoningTokens: string;
  usageStatus: UsageStatus;
  estimated: boolean;
  errorType: string | null;
  priced: boolean;
  cost: string | null;
  costBreakdown: Partial<Record<UsageType, string>> | null;
  definitionId: string | null;
  priceEffectiveFrom: Date | null;
  unpricedReason: string | null;
}

export interface UsageRecordsFilter {
  from?: Date;
  to?: Date;
  model?: string;
  source?: string;
  priced?: boolean;
  estimated?: boolean;
  /** Records after this one in the listing's order (newest first, then id descending). */
  after?: { startedAt: Date; id: string };
  limit: number;
}

const SELECT = `SELECT id, trace_id AS "traceId", span_id AS "spanId", source, model, provider, connection_id AS "connectionId", provider_model AS "providerModel",
       project_id AS "projectId", key_id AS "keyId", user_id AS "userId", started_at AS "startedAt",
       input_tokens::text AS "inputTokens", cache_read_tokens::text AS "cachedInputTokens", cache_write_tokens::text AS "cacheWriteTokens",
       output_tokens::text AS "outputTokens", reasoning_tokens::text AS "reasoningTokens", usage_status AS "usageStatus", estimated, error_type AS "errorType",
       priced, cost::text AS cost, cost_breakdown AS "costBreakdown", definition_id AS "definitionId", price_effective_from AS "priceEffectiveFrom", unpriced_reason AS "unpricedReason"
  FROM usage_records`;

/**
 * Reads usage records for an admin, scoped by construction as the cost report is: always the
 * caller's organisation, and a project-scoped caller's project only.
 */
@Injectable()
export class UsageRecordsQueryRepository {
  constructor(private readonly dataSource: DataSource) {}

  list(scope: TenantScope, filter: UsageRecordsFilter): Promise<UsageRecordRow[]> {
    const params: unknown[] = [];
    const where = this.scoped(scope, params);
    const add = (sql: (p: string) => string, value: unknown): void => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (filter.from) add((p) => `started_at >= ${p}`, filter.from.toISOString());
    if (filter.to) add((p) => `started_at < ${p}`, filter.to.toISOString());
    if (filter.model !== undefined) add((p) => `model = ${p}`, filter.model);
    if (filter.source !== undefined) add((p) => `source = ${p}`, filter.source);
    if (filter.priced !== undefined) add((p) => `priced = ${p}`, filter.priced);
    if (filter.estimated !== undefined) add((p) => `estimated = ${p}`, filter.estimated);
    if (filter.after) {
      params.push(filter.after.startedAt.toISOString(), filter.after.id);
      where.push(`(started_at, id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(filter.limit);
    return this.dataSource.query(`${SELECT} WHERE ${where.join(' AND ')} ORDER BY started_at DESC, id DESC LIMIT $${params.length}`, params);
  }

  async get(scope: TenantScope, id: string): Promise<UsageRecordRow | undefined> {
    const params: unknown[] = [];
    const where = this.scoped(scope, params);
    params.push(id);
    const rows: UsageRecordRow[] = await this.dataSource.query(`${SELECT} WHERE ${where.join(' AND ')} AND id = $${params.length}`, params);
    return rows[0];
  }

  private scoped(scope: TenantScope, params: unknown[]): string[] {
    params.push(scope.organisationId);
    const where = ['organisation_id = $1'];
    if (scope.projectId !== null) {
      params.push(scope.projectId);
      where.push(`project_id = $${params.length}`);
    }
    return where;
  }
}
