import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import { GatewayAttr, isGatewayCallSpan, type LastUsedBatch, type SpanRecord } from '#libs/contracts';
import type { NewUsageRecord } from '../records/new-usage-record.js';

/** The registry as the reporter sees it: one request per flush. */
@Injectable()
export class RegistryLastUsed {
  constructor(private readonly bus: BusClient) {}

  record(batch: LastUsedBatch): Promise<unknown> {
    return this.bus.request('registry.v1.last-used.record', batch);
  }
}

/**
 * Keeps the registry's "last used" times (per definition, per gateway model) from metering, in
 * batches: each stored span batch is folded into one pending set (the latest call start per key),
 * and the set goes to the registry in one request, which it writes in one transaction. While a
 * request is in flight, further batches only fold in; the next request carries them all. So there
 * is at most one write per batch of records, and never one per call. A failed request's times are
 * folded back in and sent with the next batch. Off the ack path: a batch is acked without waiting.
 */
@Injectable()
export class LastUsedReporter implements OnApplicationShutdown {
  private readonly logger = new Logger(LastUsedReporter.name);
  private definitions = new Map<string, number>();
  private providerModels = new Map<string, { organisationId: string; name: string; at: number }>();
  private inFlight: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly registry: RegistryLastUsed) {}

  /** Folds in one stored batch: its priced records' definitions, its gateway call spans' models. */
  note(spans: readonly SpanRecord[], records: readonly NewUsageRecord[]): void {
    for (const r of records) {
      if (r.definitionId === null || !r.priced) continue;
      this.foldDefinition(r.definitionId, r.startedAt.getTime());
    }
    for (const span of spans) {
      if (!isGatewayCallSpan(span)) continue;
      const at = startMs(span);
      if (at === null) continue;
      this.foldProviderModel(span.organisationId, String(span.attributes[GatewayAttr.model]), at);
    }
    this.flush();
  }

  /** Resolves when nothing is in flight (tests; shutdown does not wait on the registry). */
  async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }

  private flush(): void {
    if (this.inFlight || this.stopped || (this.definitions.size === 0 && this.providerModels.size === 0)) return;
    const definitions = this.definitions;
    const providerModels = this.providerModels;
    this.definitions = new Map();
    this.providerModels = new Map();
    const batch: LastUsedBatch = {
      definitions: [...definitions].map(([id, at]) => ({ id, at: new Date(at).toISOString() })),
      providerModels: [...providerModels.values()].map((m) => ({ organisationId: m.organisationId, name: m.name, at: new Date(m.at).toISOString() })),
    };
    let written = false;
    this.inFlight = this.registry
      .record(batch)
      .then(
        () => {
          written = true;
        },
        (err: unknown) => {
          this.logger.warn(`last-used times not recorded yet (${err instanceof Error ? err.message : String(err)}); they go with the next batch`);
          for (const [id, at] of definitions) this.foldDefinition(id, at);
          for (const m of providerModels.values()) this.foldProviderModel(m.organisationId, m.name, m.at);
        },
      )
      .finally(() => {
        this.inFlight = null;
        // Times noted while this write was in flight go now, as one more write: otherwise the last
        // batch before a quiet spell would wait for the next traffic. After a failure they wait for
        // the next batch instead, so a registry that is away is not asked again at once.
        if (written) this.flush();
      });
  }

  private foldDefinition(id: string, at: number): void {
    const known = this.definitions.get(id);
    if (known === undefined || at > known) this.definitions.set(id, at);
  }

  private foldProviderModel(organisationId: string, name: string, at: number): void {
    const key = `${organisationId}\u0000${name}`;
    const known = this.providerModels.get(key);
    if (known === undefined || at > known.at) this.providerModels.set(key, { organisationId, name, at });
  }
}

function startMs(span: SpanRecord): number | null {
  const text = span.startTimeUnixNano;
  if (typeof text !== 'string' || !/^\d{7,22}$/.test(text)) return null;
  const ms = Number(text.slice(0, -6));
  return Number.isFinite(ms) ? ms : null;
}
