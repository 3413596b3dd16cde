import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { JsonBytes, type DurableStreams } from '#libs/bus';
import type { SpanBatch } from '#libs/contracts';
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
 *
 * A span is queued as its JSON text, and a batch is written straight into one buffer: the queue
 * holds one flat string per span rather than a tree of objects, and no batch-sized string is made
 * (a string that large goes to V8's large-object space and stays until a full GC).
 */
export class BusSpanProcessor implements SpanProcessor {
  private readonly logger = new Logger('Telemetry');
  /** Each queued span's SpanRecord as JSON. */
  private queue: string[] = [];
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
    this.queue.push(JSON.stringify(toSpanRecord(span, this.options.organisationId)));
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
    // Every attempt sends the same bytes under the same id, so JetStream keeps one copy.
    const batchId = randomUUID();
    const batch = encodeSpanBatch(batchId, spans);
    this.inFlight = (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.durable.publish('telemetry.v1.spans', batch, batchId);
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

/** A SpanBatch's JSON from its spans' JSON texts, written into one buffer. */
export function encodeSpanBatch(batchId: string, spans: readonly string[]): JsonBytes<SpanBatch> {
  const head = `{"batchId":${JSON.stringify(batchId)},"spans":[`;
  let size = Buffer.byteLength(head) + Math.max(spans.length - 1, 0) + 2;
  for (const span of spans) size += Buffer.byteLength(span);
  const out = Buffer.allocUnsafe(size);
  let at = out.write(head, 0);
  for (let i = 0; i < spans.length; i++) {
    if (i > 0) out[at++] = 0x2c; // ,
    at += out.write(spans[i]!, at);
  }
  out[at++] = 0x5d; // ]
  out[at++] = 0x7d; // }
  return new JsonBytes<SpanBatch>(out);
}
