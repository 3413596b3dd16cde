import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import type { KeySpendIncrement } from '#libs/contracts';
import { Decimal, formatDecimal, parseDecimal } from '#libs/money';
import type { NewUsageRecord } from '../records/new-usage-record.js';

/** How long increments gather before one event carries them all. */
export const KEY_SPEND_FLUSH_MS = 250;

/**
 * Tells every gateway replica what its keys spent (issue 15.5, key budgets): the priced cost of
 * records newly stored, summed per key and UTC day, published as one
 * `metering.v1.events.key-spend` at most every KEY_SPEND_FLUSH_MS. Only records the insert
 * reported as new are noted, so a redelivered span batch never counts twice. A failed publish
 * folds its increments back for the next one. Off the ack path.
 */
@Injectable()
export class KeySpendReporter implements OnApplicationShutdown {
  private readonly logger = new Logger(KeySpendReporter.name);
  private pending = new Map<string, { keyId: string; day: string; cost: Decimal }>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly bus: BusClient) {}

  /** Folds in newly stored records (priced, of a gateway key). */
  note(records: readonly NewUsageRecord[]): void {
    for (const r of records) {
      if (!r.priced || r.keyId === null || r.cost === null) continue;
      this.fold(r.keyId, r.startedAt.toISOString().slice(0, 10), parseDecimal(r.cost));
    }
    this.schedule();
  }

  /** Folds in records priced only now (re-pricing: each record is priced once, so spent once). */
  notePriced(records: readonly { keyId: string | null; startedAt: Date; cost: Decimal }[]): void {
    for (const r of records) if (r.keyId !== null) this.fold(r.keyId, r.startedAt.toISOString().slice(0, 10), r.cost);
    this.schedule();
  }

  /** Publishes what is pending now (tests, shutdown). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const increments: KeySpendIncrement[] = [...batch.values()].map((p) => ({ keyId: p.keyId, day: p.day, cost: formatDecimal(p.cost) }));
    try {
      await this.bus.publish('metering.v1.events.key-spend', { increments });
    } catch (err) {
      this.logger.warn(`key spend not published yet (${err instanceof Error ? err.message : String(err)}); it goes with the next batch`);
      for (const p of batch.values()) this.fold(p.keyId, p.day, p.cost);
      this.schedule();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
    this.stopped = true;
  }

  private schedule(): void {
    if (this.timer || this.stopped || this.pending.size === 0) return;
    this.timer = setTimeout(() => void this.flush(), KEY_SPEND_FLUSH_MS);
    this.timer.unref();
  }

  private fold(keyId: string, day: string, cost: Decimal): void {
    if (cost.isZero()) return;
    const id = `${keyId}\u0000${day}`;
    const known = this.pending.get(id);
    if (known) known.cost = known.cost.plus(cost);
    else this.pending.set(id, { keyId, day, cost });
  }
}
