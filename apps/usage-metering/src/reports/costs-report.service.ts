import { Injectable } from '@nestjs/common';
import { AppError, type CostGroupView, type CostReportView, type CostsQueryDto, type TenantScope } from '#libs/contracts';
import { formatDecimal, parseDecimal, sumDecimals } from '#libs/money';
import { Clock } from '#libs/runtime';
import { CostsReportRepository, type CostGroupRow } from './costs-report.repository.js';

export const DEFAULT_REPORT_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

export interface CostsReportCommand {
  scope: TenantScope;
  input: CostsQueryDto;
}

/** Cost reports: exact decimal sums per model, project, key, provider, connection, provider model, day or hour over a time window. */
@Injectable()
export class CostsReportService {
  constructor(
    private readonly repository: CostsReportRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * `to` defaults to now and `from` to 30 days before `to` (= 30 days ago when `to` is not given);
   * from is inclusive, to exclusive. Groups come most expensive first.
   */
  async report(command: CostsReportCommand): Promise<CostReportView> {
    const to = command.input.to ? new Date(command.input.to) : this.clock.now();
    const from = command.input.from ? new Date(command.input.from) : new Date(to.getTime() - DEFAULT_REPORT_DAYS * DAY_MS);
    if (from.getTime() > to.getTime()) {
      throw AppError.validation([{ field: 'from', messages: ['from must not be after to'] }]);
    }
    const groupBy = command.input.groupBy ?? 'model';
    const rows = await this.repository.groups(command.scope, { from, to, groupBy });
    const groups = rows.map(toGroupView);
    return {
      currency: 'USD',
      from: from.toISOString(),
      to: to.toISOString(),
      groupBy,
      groups,
      totalCost: formatDecimal(sumDecimals(groups.map((g) => parseDecimal(g.cost)))),
    };
  }
}

function toGroupView(row: CostGroupRow): CostGroupView {
  return {
    key: row.key,
    requests: Number(row.requests),
    inputTokens: Number(row.inputTokens),
    cachedInputTokens: Number(row.cachedInputTokens),
    cacheWriteTokens: Number(row.cacheWriteTokens),
    outputTokens: Number(row.outputTokens),
    reasoningTokens: Number(row.reasoningTokens),
    // numeric's text keeps the widest scale summed ("0.0087550"); write it in the one normal form.
    cost: formatDecimal(parseDecimal(row.cost)),
    unpricedRequests: Number(row.unpricedRequests),
    missingUsageRequests: Number(row.missingUsageRequests),
    partialUsageRequests: Number(row.partialUsageRequests),
    errorRequests: Number(row.errorRequests),
    estimatedRequests: Number(row.estimatedRequests),
  };
}
