import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { DurableStreams } from '#libs/bus';
import type { SpanBatch, SpanRecord } from '#libs/contracts';
import { toSpanRecord } from './span-record.js';

export interface BusSpanProcessorOptions {
  flushIntervalMs: number;
  maxBatchSize: number;
  organisationId: string;
}

/** What the processor has done; exported as metrics and read by tests and the benchmark. */
export interface TelemetryCounters {
  spansQueued: number;
  spansPublished: number;
  publishFailures: number;
  /** Spans waiting now (queued plus in flight). Grows under back-pressure; nothing is dropped. */
  pending: number;
}

/**
 * Sends finished spans to usage-metering over the durable bus, off the request path: onEnd only
 * converts and queues; a timer (or a full batch) publishes. Unlike OpenTelemetry's
 * BatchSpanProcessor it never drops a span when the queue is long: a failed publish is retried
 * with the same batch id (JetStream de-duplicates), and the counters show the back-pressure.
 */
export class BusSpanProcessor implements SpanProcessor {
  private readonly logger = new Logger('Telemetry');
  private queue: SpanRecord[] = [];
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  readonly counters: TelemetryCounters = { spansQueued: 0, spansPublished: 0, publishFailures: 0, pending: 0 };

  constructor(
    private readonly durable: DurableStreams,
    private readonly options: BusSpanProcessorOptions,
  ) {}

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    this.queue.push(toSpanRecord(span, this.options.organisationId));
    this.counters.spansQueued++;
    this.counters.pending++;
    if (this.queue.length >= this.options.maxBatchSize) this.kick(0);
    else this.kick(this.options.flushIntervalMs);
  }

  async forceFlush(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight) {
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
    const spans = this.queue.splice(0, this.options.maxBatchSize);
    if (spans.length === 0) return Promise.resolve();
    const batch: SpanBatch = { batchId: batchIdOf(spans), spans };
    this.inFlight = (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.durable.publish('telemetry.v1.spans', batch, batch.batchId);
          this.counters.spansPublished += spans.length;
          this.counters.pending -= spans.length;
          return;
        } catch (err) {
          this.counters.publishFailures++;
          this.logger.warn(`publishing ${spans.length} spans failed (attempt ${attempt}), will retry: ${String(err)}`);
          await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 5000)));
        }
      }
    })().finally(() => {
      this.inFlight = null;
      if (this.queue.length > 0) this.kick(this.queue.length >= this.options.maxBatchSize ? 0 : this.options.flushIntervalMs);
    });
    return this.inFlight;
  }
}

/** Same spans, same id: a retried batch is recognised as a duplicate. */
function batchIdOf(spans: SpanRecord[]): string {
  const h = createHash('sha256');
  for (const s of spans) h.update(s.traceId).update(s.spanId);
  return h.digest('base64url').slice(0, 32);
}
