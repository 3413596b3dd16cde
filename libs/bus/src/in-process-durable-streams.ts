import type { DurableMessages, DurableSubject } from '#libs/contracts';
import {
  DEFAULT_CONSUMER_OPTIONS,
  deadLetterFor,
  durableLogger,
  JsonBytes,
  type DeadLetter,
  type DurablePayload,
  type DurableConsumerOptions,
  type DurableHandler,
  type DurableStreams,
  type DurableSubscription,
} from './durable-streams.js';

interface Stored {
  subject: string;
  msgId: string;
  bytes: string;
}

interface Consumer {
  durableName: string;
  subject: string;
  handler: DurableHandler<DurableSubject>;
  options: DurableConsumerOptions;
  queue: { msg: Stored; deliveries: number }[];
  running: boolean;
  stopped: boolean;
  idle: Array<() => void>;
}

/**
 * Embedded mode's JetStream: messages are serialised to JSON text on publish and parsed per
 * delivery, acked when the handler resolves, retried on failure and dead-lettered after
 * maxDeliver attempts. Messages are de-duplicated by id within a window, as JetStream does.
 * Each durable consumer gets every message once (like one JetStream durable consumer).
 */
export class InProcessDurableStreams implements DurableStreams {
  private readonly consumers = new Map<string, Consumer>();
  private readonly pendingBySubject = new Map<string, Stored[]>();
  private readonly seen = new Map<string, number>();
  readonly deadLetters: DeadLetter[] = [];

  constructor(private readonly duplicateWindowMs = 120_000) {}

  async publish<S extends DurableSubject>(subject: S, payload: DurablePayload<S>, msgId: string): Promise<void> {
    const now = Date.now();
    this.pruneSeen(now);
    if (this.seen.has(msgId)) return;
    this.seen.set(msgId, now);
    const json = payload instanceof JsonBytes ? Buffer.from(payload.bytes.buffer, payload.bytes.byteOffset, payload.bytes.byteLength).toString('utf8') : JSON.stringify(payload);
    const stored: Stored = { subject, msgId, bytes: json };
    const targets = [...this.consumers.values()].filter((c) => c.subject === subject && !c.stopped);
    if (targets.length === 0) {
      // Like a stream with no consumer yet: kept until a durable consumer attaches.
      const pending = this.pendingBySubject.get(subject) ?? [];
      pending.push(stored);
      this.pendingBySubject.set(subject, pending);
      return;
    }
    for (const c of targets) this.enqueue(c, stored);
  }

  async consume<S extends DurableSubject>(
    subject: S,
    durableName: string,
    handler: DurableHandler<S>,
    options: Partial<DurableConsumerOptions> = {},
  ): Promise<DurableSubscription> {
    const consumer: Consumer = {
      durableName,
      subject,
      handler: handler as DurableHandler<DurableSubject>,
      options: { ...DEFAULT_CONSUMER_OPTIONS, ...options },
      queue: [],
      running: false,
      stopped: false,
      idle: [],
    };
    this.consumers.set(`${subject}|${durableName}`, consumer);
    for (const stored of this.pendingBySubject.get(subject) ?? []) this.enqueue(consumer, stored);
    this.pendingBySubject.delete(subject);
    return {
      stop: async () => {
        await this.drain(consumer);
        consumer.stopped = true;
        this.consumers.delete(`${subject}|${durableName}`);
      },
    };
  }

  /** Resolves when every consumer has handled everything published so far. */
  async drainAll(): Promise<void> {
    await Promise.all([...this.consumers.values()].map((c) => this.drain(c)));
  }

  async close(): Promise<void> {
    await this.drainAll();
  }

  private drain(c: Consumer): Promise<void> {
    if (!c.running && c.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => c.idle.push(resolve));
  }

  private enqueue(c: Consumer, msg: Stored): void {
    c.queue.push({ msg, deliveries: 0 });
    if (!c.running) void this.run(c);
  }

  private async run(c: Consumer): Promise<void> {
    c.running = true;
    while (c.queue.length > 0) {
      const item = c.queue[0];
      item.deliveries++;
      try {
        await c.handler(JSON.parse(item.msg.bytes) as DurableMessages[DurableSubject], { msgId: item.msg.msgId, deliveryCount: item.deliveries });
        c.queue.shift();
      } catch (err) {
        if (item.deliveries >= c.options.maxDeliver) {
          c.queue.shift();
          this.deadLetters.push(deadLetterFor(item.msg.subject, item.msg.msgId, c.durableName, err, item.msg.bytes));
          durableLogger.error(`message ${item.msg.msgId} on ${item.msg.subject} dead-lettered after ${item.deliveries} deliveries: ${String(err)}`);
        } else {
          durableLogger.warn(`message ${item.msg.msgId} failed (delivery ${item.deliveries}), retrying: ${String(err)}`);
          await new Promise((r) => setTimeout(r, c.options.retryDelayMs));
        }
      }
    }
    c.running = false;
    for (const resolve of c.idle.splice(0)) resolve();
  }

  private pruneSeen(now: number): void {
    for (const [id, at] of this.seen) {
      if (now - at <= this.duplicateWindowMs) break; // insertion order = time order
      this.seen.delete(id);
    }
  }
}
