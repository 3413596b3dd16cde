import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { JsonBytes, type DurableStreams } from '#libs/bus';
import type { SpanBatch, SpanRecord } from '#libs/contracts';
import type { JsonTextOut, SpanJson, SpanSink } from './call-span.js';

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

  /** A span that writes its own JSON into the batch (CallSpan: no record object, no string of its JSON). */
  addSpan(span: SpanJson): void {
    const batch = (this.current ??= new SpanBatchWriter());
    batch.addSpan(span);
    this.queued(batch);
  }

  /** A record already serialised. */
  addJson(json: string): void {
    const batch = (this.current ??= new SpanBatchWriter());
    batch.add(json);
    this.queued(batch);
  }

  private queued(batch: SpanBatchWriter): void {
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

/** Printable ASCII but `"` and `\\`: a string of only these is its own JSON text between quotes. */
const PLAIN_JSON_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Past this many chars a string is checked and copied natively, not char by char (~2x the cost of Buffer#write at 27 chars). */
const LONG_TEXT = 64;

/** The first buffer of a batch; it doubles as spans arrive (a full batch of 512 is ~400 KB). */
const INITIAL_BATCH_BYTES = 64 * 1024;

/**
 * One SpanBatch's JSON, written span by span into a buffer outside the JavaScript heap. A span
 * writes its own JSON into it piece by piece (it is the span's JsonTextOut while it writes): its
 * constant and cached pieces are bytes already, copied by TypedArray#set; the rest (ids, values) is
 * copied a char at a time by optimised JavaScript, cheaper for such short text than a call into
 * Buffer.write each (~2x), and makes no string.
 */
export class SpanBatchWriter implements JsonTextOut {
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
    this.ensure(spanJson.length * 3 + 1); // UTF-8 takes at most 3 bytes per UTF-16 unit; 1 more for a comma
    if (this.count > 0) this.buffer[this.at++] = 0x2c; // ,
    this.at += this.buffer.write(spanJson, this.at);
    this.count++;
  }

  /** Adds one span that writes its own SpanRecord JSON; if it throws, the batch is as it was. */
  addSpan(span: SpanJson): void {
    const mark = this.at;
    try {
      if (this.count > 0) this.json(',');
      span.writeJson(this);
    } catch (err) {
      this.at = mark;
      throw err;
    }
    this.count++;
  }

  bytes(encoded: Uint8Array): void {
    this.ensure(encoded.length);
    this.buffer.set(encoded, this.at);
    this.at += encoded.length;
  }

  json(text: string): void {
    const length = text.length;
    this.ensure(length);
    const buffer = this.buffer;
    const at = this.at;
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return this.utf8(text);
      buffer[at + i] = c;
    }
    this.at = at + length;
  }

  string(text: string): void {
    const length = text.length;
    this.ensure(length + 2);
    const buffer = this.buffer;
    const at = this.at;
    buffer[at] = 0x22; // "
    if (length > LONG_TEXT) {
      // A prompt or completion the span records: one native check and copy beat the char loop here.
      if (!PLAIN_JSON_TEXT.test(text)) return this.utf8(JSON.stringify(text));
      buffer.write(text, at + 1, length, 'latin1');
      buffer[at + 1 + length] = 0x22;
      this.at = at + length + 2;
      return;
    }
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      // Printable ASCII but `"` and `\` is its own JSON text; anything else JSON.stringify escapes.
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return this.utf8(JSON.stringify(text));
      buffer[at + 1 + i] = c;
    }
    buffer[at + 1 + length] = 0x22;
    this.at = at + length + 2;
  }

  number(n: number): void {
    if (Number.isInteger(n) && Math.abs(n) <= Number.MAX_SAFE_INTEGER) {
      if (n < 0) {
        this.json('-');
        this.digits(-n, 1);
      } else this.digits(n, 1); // -0 too: JSON.stringify writes it 0
    } else this.json(Number.isFinite(n) ? String(n) : 'null');
  }

  digits(n: number, width: number): void {
    let length = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) length++;
    if (length < width) length = width;
    this.ensure(length);
    const buffer = this.buffer;
    for (let i = this.at + length - 1; i >= this.at; i--) {
      buffer[i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.at += length;
  }

  /** The whole batch; the writer takes no more spans. */
  seal(): JsonBytes<SpanBatch> {
    this.ensure(2);
    this.buffer[this.at++] = 0x5d; // ]
    this.buffer[this.at++] = 0x7d; // }
    return new JsonBytes<SpanBatch>(this.buffer.subarray(0, this.at));
  }

  /** Text with non-ASCII chars (rare: names and values are ASCII), from where the fast loop began. */
  private utf8(text: string): void {
    this.ensure(text.length * 3);
    this.at += this.buffer.write(text, this.at);
  }

  private ensure(bytes: number): void {
    if (this.at + bytes > this.buffer.length) this.grow(this.at + bytes);
  }

  private grow(atLeast: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(atLeast, this.buffer.length * 2));
    this.buffer.copy(bigger, 0, 0, this.at);
    this.buffer = bigger;
  }
}
