import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { checkedEnvelope, CommandHandler } from '#libs/bus';
import { AppError, QUEUE_GROUPS, type CommandResponse } from '#libs/contracts';
import { DataSource } from 'typeorm';

const MAX_TRACES = 1000;

/**
 * metering.v1.usage.by-traces: the priced cost of each trace, within the caller's scope. The
 * evaluator sends each row's calls under one trace id and reads the row's cost back with it.
 */
@Controller()
export class TraceCostsHandler {
  constructor(private readonly dataSource: DataSource) {}

  @CommandHandler('metering.v1.usage.by-traces', QUEUE_GROUPS.metering)
  async byTraces(@Payload() payload: unknown): Promise<CommandResponse<'metering.v1.usage.by-traces'>> {
    const { scope, input } = checkedEnvelope(payload);
    const traceIds = (input as { traceIds?: unknown } | undefined)?.traceIds;
    if (!Array.isArray(traceIds) || traceIds.length > MAX_TRACES || traceIds.some((t) => typeof t !== 'string' || !/^[0-9a-f]{32}$/.test(t))) {
      throw AppError.validation([{ field: 'traceIds', messages: [`traceIds must be up to ${MAX_TRACES} W3C trace ids (32 lowercase hex digits)`] }]);
    }
    const params: unknown[] = [traceIds, scope.organisationId];
    let where = 'trace_id = ANY($1) AND organisation_id = $2';
    if (scope.projectId !== null) {
      params.push(scope.projectId);
      where += ' AND project_id = $3';
    }
    const rows = (await this.dataSource.query(
      `SELECT trace_id, count(*)::int AS calls, count(*) FILTER (WHERE NOT priced)::int AS unpriced, sum(cost) FILTER (WHERE priced)::text AS cost
         FROM usage_records WHERE ${where} GROUP BY trace_id`,
      params,
    )) as { trace_id: string; calls: number; unpriced: number; cost: string | null }[];
    return { traces: rows.map((r) => ({ traceId: r.trace_id, calls: r.calls, unpricedCalls: r.unpriced, cost: r.cost })) };
  }
}
