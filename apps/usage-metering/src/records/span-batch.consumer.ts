import { Inject, Injectable, Logger } from '@nestjs/common';
import { DURABLE_STREAMS, type DurableMessageMeta, type DurableStreams, type DurableSubscription } from '#libs/bus';
import type { SpanBatch } from '#libs/contracts';
import { newId } from '#libs/db';
import { DefinitionsReadModel } from '../definitions/definitions-read-model.js';
import { KeySpendReporter } from '../key-spend/key-spend-reporter.js';
import { LastUsedReporter } from '../last-used/last-used-reporter.js';
import { usageRecordsForBatch, type NewUsageRecord } from './new-usage-record.js';
import { UnpricedRecordsRepricer } from './unpriced-records.repricer.js';
import { UsageRecordsRepository } from './usage-records.repository.js';

/** The JetStream durable consumer name: every replica shares it, so each batch is handled once. */
export const SPANS_CONSUMER = 'usage-metering';

/**
 * Stream messages in hand at once per replica: each is priced as it arrives, and those that arrive
 * while the store is busy wait to be stored together (below). Safe: a span is stored once whatever
 * the order (its unique key), and the rollup rows are locked in key order.
 */
export const SPANS_CONCURRENCY = 16;

/** Writes (one COPY statement each) in flight at once: one's commit (its WAL flush) overlaps the next one's COPY. */
export const WRITES_IN_FLIGHT = 2;

/**
 * The most spans stored by one write. The batches waiting when a write starts go together: every
 * write costs a commit and an upsert of the organisation's rollup rows whatever its size, and
 * concurrent writes take those rows in turn. Measured by test/bench/metering-throughput.ts.
 */
export const SPANS_PER_WRITE = 4096;

/** A priced batch waiting to be stored, and its delivery's handler to settle (the ack) once it is. */
interface PricedBatch {
  batch: SpanBatch;
  records: NewUsageRecord[];
  generation: number;
  stored: () => void;
  failed: (err: unknown) => void;
}

/**
 * Consumes span batches from the durable stream: prices each LLM-call span and stores the records;
 * a delivery's handler resolves (the ack) only after its records are committed, and a failure is
 * redelivered (then dead-lettered). Redelivery is harmless: a span already stored is skipped.
 * Batches that wait for the store go together in one statement (one transaction); when such a write
 * fails, each of its batches is written again alone, so only a batch that fails by itself is retried
 * and, in the end, dead-lettered.
 */
@Injectable()
export class SpanBatchConsumer {
  private readonly logger = new Logger(SpanBatchConsumer.name);
  private subscription: DurableSubscription | null = null;
  private starting: Promise<void> | null = null;
  private stopped = false;
  private readonly waiting: PricedBatch[] = [];
  private writing = 0;

  constructor(
    @Inject(DURABLE_STREAMS) private readonly durable: DurableStreams | null,
    private readonly definitions: DefinitionsReadModel,
    private readonly records: UsageRecordsRepository,
    private readonly repricer: UnpricedRecordsRepricer,
    private readonly lastUsed: LastUsedReporter,
    private readonly keySpend: KeySpendReporter,
  ) {}

  /** Starts consuming; call only once the definitions are loaded. */
  start(): Promise<void> {
    const durable = this.durable;
    if (!durable) return Promise.reject(new Error('usage-metering needs durable streams'));
    if (this.stopped || this.subscription) return Promise.resolve();
    this.starting ??= (async () => {
      try {
        this.subscription = await durable.consume('telemetry.v1.spans', SPANS_CONSUMER, (batch, meta) => this.handle(batch, meta), { concurrency: SPANS_CONCURRENCY });
        this.logger.log('consuming telemetry.v1.spans');
      } finally {
        this.starting = null;
      }
    })();
    return this.starting;
  }

  /** Stops taking new batches (for good); the one in hand is finished (and acked) first. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    const subscription = this.subscription;
    this.subscription = null;
    await subscription?.stop();
  }

  handle(batch: SpanBatch, meta: DurableMessageMeta): Promise<void> {
    // Read together, synchronously: the records are priced with exactly this generation's definitions.
    const catalogue = this.definitions.catalogue;
    const generation = this.definitions.generation;
    let records: NewUsageRecord[];
    try {
      const priced = usageRecordsForBatch(batch, catalogue, () => newId('usage'));
      for (const problem of priced.malformed) this.logger.warn(`batch ${meta.msgId}: skipped an unreadable span: ${problem}`);
      records = priced.records;
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise<void>((stored, failed) => {
      this.waiting.push({ batch, records, generation, stored, failed });
      this.writeWaiting();
    });
  }

  /** Starts writes of the waiting batches while fewer than WRITES_IN_FLIGHT are in flight. */
  private writeWaiting(): void {
    while (this.writing < WRITES_IN_FLIGHT && this.waiting.length > 0) {
      const group: PricedBatch[] = [];
      let spans = 0;
      while (this.waiting.length > 0 && (group.length === 0 || spans + this.waiting[0]!.records.length <= SPANS_PER_WRITE)) {
        const next = this.waiting.shift()!;
        spans += next.records.length;
        group.push(next);
      }
      this.writing++;
      void this.write(group).finally(() => {
        this.writing--;
        this.writeWaiting();
      });
    }
  }

  private async write(group: readonly PricedBatch[]): Promise<void> {
    if (group.length > 1) {
      let inserted: readonly NewUsageRecord[];
      try {
        inserted = await this.records.insertBatch(group.flatMap((g) => g.records));
      } catch (err) {
        this.logger.warn(`${group.length} span batches not stored together (${err instanceof Error ? err.message : String(err)}); storing each alone`);
        for (const g of group) await this.write([g]);
        return;
      }
      const fresh = new Set(inserted);
      for (const g of group) this.stored(g, g.records.filter((r) => fresh.has(r)));
      return;
    }
    const g = group[0]!;
    try {
      this.stored(g, await this.records.insertBatch(g.records));
    } catch (err) {
      g.failed(err);
    }
  }

  /** After the commit: the ack, then what follows from the stored records (off the ack path). */
  private stored(g: PricedBatch, inserted: readonly NewUsageRecord[]): void {
    g.stored();
    try {
      // One write per batch at most (LastUsedReporter).
      this.lastUsed.note(g.batch.spans, g.records);
      // Only what this delivery stored: a redelivered span is never spent twice.
      this.keySpend.note(inserted);
      // Definitions that changed while this batch was priced may have been re-priced before its
      // records were committed; look at them again.
      if (this.definitions.generation !== g.generation && g.records.some((r) => !r.priced)) this.repricer.schedule();
    } catch (err) {
      this.logger.error(`after storing a span batch: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
