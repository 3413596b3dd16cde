import { Injectable } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import type { CommandEnvelope, TenantScope, TraceCostsView } from '#libs/contracts';

export type TraceCost = TraceCostsView['traces'][number];

/**
 * Costs of the evaluator's calls, from metering by the trace ids the evaluator sent (each row or
 * playground answer has its own). Metering prices spans some time after the call, so callers ask
 * lazily when results are read; an unreachable metering leaves costs unknown, never fails a read.
 */
@Injectable()
export class TraceCosts {
  constructor(private readonly bus: BusClient) {}

  async lookup(scope: TenantScope, actor: CommandEnvelope<unknown>['actor'], traceIds: string[]): Promise<Map<string, TraceCost>> {
    if (traceIds.length === 0) return new Map();
    const answer = await this.bus.request('metering.v1.usage.by-traces', { scope, actor, input: { traceIds } }).catch(() => undefined);
    return new Map((answer?.traces ?? []).map((t) => [t.traceId, t]));
  }
}
