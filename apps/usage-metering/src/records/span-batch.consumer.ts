import { Inject, Injectable, Logger } from '@nestjs/common';
import { DURABLE_STREAMS, type DurableMessageMeta, type DurableStreams, type DurableSubscription } from '#libs/bus';
import type { SpanBatch } from '#libs/contracts';
import { newId } from '#libs/db';
import { DefinitionsReadModel } from '../definitions/definitions-read-model.js';
import { KeySpendReporter } from '../key-spend/key-spend-reporter.js';
import { LastUsedReporter } from '../last-used/last-used-reporter.js';
import { usageRecordsForBatch } from './new-usage-record.js';
import { UnpricedRecordsRepricer } from './unpriced-records.repricer.js';
import { UsageRecordsRepository } from './usage-records.repository.js';

/** The JetStream durable consumer name: every replica shares it, so each batch is handled once. */
export const SPANS_CONSUMER = 'usage-metering';

/**
 * Batches handled at once per replica: one batch's commit (its WAL flush) overlaps the next one's
 * parsing, pricing and COPY. Safe: a span is stored once whatever the order (its unique key), and
 * the rollup rows are locked in key order. Measured by test/bench/metering-throughput.ts.
 */
export const SPANS_CONCURRENCY = 4;

/**
 * Consumes span batches from the durable stream: prices each LLM-call span and stores the records in
 * one transaction; the handler resolving is the ack, so a batch is acked only after its commit, and a
 * failure is redelivered (then dead-lettered). Redelivery is harmless: a span already stored is skipped.
 */
@Injectable()
export class SpanBatchConsumer {
  private readonly logger = new Logger(SpanBatchConsumer.name);
  private subscription: DurableSubscription | null = null;
  private starting: Promise<void> | null = null;
  private stopped = false;

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

  async handle(batch: SpanBatch, meta: DurableMessageMeta): Promise<void> {
    // Read together, synchronously: the records are priced with exactly this generation's definitions.
    const catalogue = this.definitions.catalogue;
    const generation = this.definitions.generation;
    const { records, malformed } = usageRecordsForBatch(batch, catalogue, () => newId('usage'));
    for (const problem of malformed) this.logger.warn(`batch ${meta.msgId}: skipped an unreadable span: ${problem}`);
    const inserted = await this.records.insertBatch(records);
    // After the commit, off the ack path: one write per batch at most (LastUsedReporter).
    this.lastUsed.note(batch.spans, records);
    // Only what this delivery stored: a redelivered span is never spent twice.
    this.keySpend.note(inserted);
    // Definitions that changed while this batch was priced may have been re-priced before its
    // records were committed; look at them again.
    if (this.definitions.generation !== generation && records.some((r) => !r.priced)) this.repricer.schedule();
  }
}
