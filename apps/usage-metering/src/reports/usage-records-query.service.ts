import { Injectable } from '@nestjs/common';
import { AppError, type TenantScope, type UsageRecordsPageView, type UsageRecordsQueryDto, type UsageRecordView } from '#libs/contracts';
import { formatDecimal, parseDecimal } from '#libs/money';
import { UsageRecordsQueryRepository, type UsageRecordRow } from './usage-records-query.repository.js';

const DEFAULT_LIMIT = 50;

/** Usage records one at a time or a page at a time (GET /admin/usage/records, /admin/usage/unpriced). */
@Injectable()
export class UsageRecordsQueryService {
  constructor(private readonly repository: UsageRecordsQueryRepository) {}

  async list(scope: TenantScope, input: UsageRecordsQueryDto): Promise<UsageRecordsPageView> {
    const limit = input.limit ?? DEFAULT_LIMIT;
    const rows = await this.repository.list(scope, {
      from: input.from ? new Date(input.from) : undefined,
      to: input.to ? new Date(input.to) : undefined,
      model: input.model,
      source: input.source,
      priced: input.priced === undefined ? undefined : input.priced === 'true',
      estimated: input.estimated === undefined ? undefined : input.estimated === 'true',
      after: input.cursor === undefined ? undefined : decodeCursor(input.cursor),
      limit: limit + 1, // one more says whether there is a next page
    });
    const items = rows.slice(0, limit).map(toView);
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return { items, nextCursor: last ? encodeCursor(last) : null };
  }

  async get(scope: TenantScope, id: string): Promise<UsageRecordView> {
    const row = await this.repository.get(scope, id);
    if (!row) throw AppError.notFound('usage record', id);
    return toView(row);
  }
}

function encodeCursor(row: UsageRecordRow): string {
  return Buffer.from(JSON.stringify([row.startedAt.toISOString(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { startedAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const startedAt = new Date(String(at));
    if (typeof at === 'string' && typeof id === 'string' && !Number.isNaN(startedAt.getTime())) return { startedAt, id };
  } catch {
    // answered below
  }
  throw AppError.validation([{ field: 'cursor', messages: ['cursor is not a nextCursor this listing gave'] }]);
}

function toView(r: UsageRecordRow): UsageRecordView {
  return {
    id: r.id,
    traceId: r.traceId,
    spanId: r.spanId,
    source: r.source,
    model: r.model,
    provider: r.provider,
    connectionId: r.connectionId,
    providerModel: r.providerModel,
    projectId: r.projectId,
    keyId: r.keyId,
    userId: r.userId,
    startedAt: r.startedAt.toISOString(),
    inputTokens: Number(r.inputTokens),
    cachedInputTokens: Number(r.cachedInputTokens),
    cacheWriteTokens: Number(r.cacheWriteTokens),
    outputTokens: Number(r.outputTokens),
    reasoningTokens: Number(r.reasoningTokens),
    usageStatus: r.usageStatus,
    estimated: r.estimated,
    errorType: r.errorType,
    priced: r.priced,
    cost: r.cost === null ? null : formatDecimal(parseDecimal(r.cost)),
    costBreakdown: r.costBreakdown,
    definitionId: r.definitionId,
    priceEffectiveFrom: r.priceEffectiveFrom?.toISOString() ?? null,
    unpricedReason: r.unpricedReason,
  };
}
