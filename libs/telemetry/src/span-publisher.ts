import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { JsonBytes, type DurableStreams } from '#libs/bus';
import type { SpanBatch, SpanRecord } from '#libs/contracts';
import type { SpanSink } from './call-span.js';

export interface SpanPublisherOptions {
  flushIntervalMs: number;
  maxBatchSize: number;
}

/** What the publisher has done; exported as metrics and read by tests and the benchmark. */
export interface TelemetryCounters {
  spansQueued: number;
  spansPublished: number;
  publishFailures: number;
  /** Spans waiting now (queued plus in flight). Grows under back-pressure; nothing is dropped. */
  pending: number;
}

/**
 * Sends finished spans to usage-metering over the durable bus, off the request path: `add` only
 * serialises and queues; a timer (or a full batch) publishes. Unlike OpenTelemetry's
 * BatchSpanProcessor it never drops a span when the queue is long: a failed publish is retried
 * with the same batch id (JetStream de-duplicates), and the counters show the back-pressure.
 *
 * A span goes into its batch as JSON text the moment it ends, written into the batch's buffer
 * outside the JavaScript heap: nothing of a waiting span lives on the heap long enough to be
 * promoted to the old generation (queued span objects or strings were, at thousands of calls a
 * second, and made the heap and RSS swing), and no batch-sized string is ever made.
 */
export class SpanPublisher implements SpanSink {
  private readonly logger = new Logger('Telemetry');
  /** The batch spans are written into now. */
  private current: SpanBatchWriter | null = null;
  /** Full (or flushed) batches waiting to be published, oldest first. */
  private sealed: SealedBatch[] = [];
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  readonly counters: TelemetryCounters = { spansQueued: 0, spansPublished: 0, publishFailures: 0, pending: 0 };

  constructor(
    private readonly durable: DurableStreams,
    private readonly options: SpanPublisherOptions,
  ) {}

  add(record: SpanRecord): void {
    this.addJson(JSON.stringify(record));
  }

  /** A record already serialised (CallSpan writes its own JSON: no record object, no JSON.stringify of it). */
  addJson(json: string): void {
    const batch = (this.current ??= new SpanBatchWriter());
    batch.add(json);
    this.counters.spansQueued++;
    this.counters.pending++;
    if (batch.count >= this.options.maxBatchSize) {
      this.sealCurrent();
      this.kick(0);
    } else this.kick(this.options.flushIntervalMs);
  }

  private get waiting(): boolean {
    return this.sealed.length > 0 || this.current !== null;
  }

  private sealCurrent(): void {
    const batch = this.current;
    this.current = null;
    if (batch && batch.count > 0) this.sealed.push({ batchId: batch.batchId, count: batch.count, bytes: batch.seal() });
  }

  async forceFlush(): Promise<void> {
    while (this.waiting || this.inFlight) {
      if (this.inFlight) await this.inFlight;
      else await this.publishNext();
    }
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private kick(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer && delayMs > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.inFlight) void this.publishNext();
    }, delayMs);
    this.timer.unref?.();
  }

  private publishNext(): Promise<void> {
    if (this.sealed.length === 0) this.sealCurrent();
    const batch = this.sealed.shift();
    if (!batch) return Promise.resolve();
    this.inFlight = (async () => {
      // Every attempt sends the same bytes under the same id, so JetStream keeps one copy.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.durable.publish('telemetry.v1.spans', batch.bytes, batch.batchId);
          this.counters.spansPublished += batch.count;
          this.counters.pending -= batch.count;
          return;
        } catch (err) {
          this.counters.publishFailures++;
          this.logger.warn(`publishing ${batch.count} spans failed (attempt ${attempt}), will retry: ${String(err)}`);
          await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 5000)));
        }
      }
    })().finally(() => {
      this.inFlight = null;
      if (this.sealed.length > 0) this.kick(0);
      else if (this.current) this.kick(this.options.flushIntervalMs);
    });
    return this.inFlight;
  }
}

interface SealedBatch {
  batchId: string;
  count: number;
  bytes: JsonBytes<SpanBatch>;
}

/** The first buffer of a batch; it doubles as spans arrive (a full batch of 512 is ~400 KB). */
const INITIAL_BATCH_BYTES = 64 * 1024;

/** One SpanBatch's JSON, written span by span into a buffer outside the JavaScript heap. */
export class SpanBatchWriter {
  readonly batchId = randomUUID();
  count = 0;
  private buffer: Buffer;
  private at: number;

  constructor(initialBytes = INITIAL_BATCH_BYTES) {
    const head = `{"batchId":"${this.batchId}","spans":[`; // a UUID needs no escaping
    this.buffer = Buffer.allocUnsafe(Math.max(initialBytes, head.length + 2));
    this.at = this.buffer.write(head, 0, 'latin1');
  }

  /** Adds one span's SpanRecord JSON. */
  add(spanJson: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; 3 more for a comma now and "]}" at the end.
    const room = spanJson.length * 3 + 3;
    if (this.at + room > this.buffer.length) this.grow(this.at + room);
    if (this.count > 0) this.buffer[this.at++] = 0x2c; // ,
    this.at += this.buffer.write(spanJson, this.at);
    this.count++;
  }

  /** The whole batch; the writer takes no more spans. */
  seal(): JsonBytes<SpanBatch> {
    if (this.at + 2 > this.buffer.length) this.grow(this.at + 2);
    this.buffer[this.at++] = 0x5d; // ]
    this.buffer[this.at++] = 0x7d; // }
    return new JsonBytes<SpanBatch>(this.buffer.subarray(0, this.at));
  }

  private grow(atLeast: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(atLeast, this.buffer.length * 2));
    this.buffer.copy(bigger, 0, 0, this.at);
    this.buffer = bigger;
  }
}
