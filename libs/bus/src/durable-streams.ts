import { Logger } from '@nestjs/common';
import type { DurableMessages, DurableSubject } from '#libs/contracts';

export interface DurableMessageMeta {
  msgId: string;
  /** 1 on first delivery. */
  deliveryCount: number;
}

export type DurableHandler<S extends DurableSubject> = (payload: DurableMessages[S], meta: DurableMessageMeta) => Promise<void>;

export interface DurableConsumerOptions {
  /** Deliveries before a message is declared poison and moved to the dead-letter subject. */
  maxDeliver: number;
  /** Wait before a failed message is delivered again. */
  retryDelayMs: number;
  /**
   * Messages handled at once (each acked when its own handler resolves); 1 keeps them in order.
   * More suits a handler that waits on I/O and is idempotent (the in-process streams stay serial).
   */
  concurrency: number;
}

export interface DurableSubscription {
  stop(): Promise<void>;
}

/**
 * A message already serialised as the JSON of a `T`: a producer of large messages (span batches)
 * builds the bytes piece by piece instead of making one large string and encoding it again.
 */
export class JsonBytes<T> {
  declare private readonly payloadType: T;
  constructor(readonly bytes: Uint8Array) {}
}

/** What `publish` takes for a subject: the payload itself, or its JSON already made. */
export type DurablePayload<S extends DurableSubject> = DurableMessages[S] | JsonBytes<DurableMessages[S]>;

/**
 * Durable, at-least-once messages (usage and traces): JetStream in distributed mode, an
 * in-process queue with the same ack/retry/dead-letter rules in embedded mode.
 * Publishing resolves once the message is stored; duplicates (same msgId) are dropped.
 */
export interface DurableStreams {
  publish<S extends DurableSubject>(subject: S, payload: DurablePayload<S>, msgId: string): Promise<void>;
  consume<S extends DurableSubject>(subject: S, durableName: string, handler: DurableHandler<S>, options?: Partial<DurableConsumerOptions>): Promise<DurableSubscription>;
  close(): Promise<void>;
}

export const DURABLE_STREAMS = Symbol('DURABLE_STREAMS');

export const DEFAULT_CONSUMER_OPTIONS: DurableConsumerOptions = { maxDeliver: 5, retryDelayMs: 1000, concurrency: 1 };

/** Where a message that failed maxDeliver times is kept, for an admin to list. */
export interface DeadLetter {
  subject: string;
  msgId: string;
  durableName: string;
  error: string;
  payload: string;
  at: string;
}

export function deadLetterFor(subject: string, msgId: string, durableName: string, error: unknown, payload: string): DeadLetter {
  return { subject, msgId, durableName, error: error instanceof Error ? error.message : String(error), payload, at: new Date().toISOString() };
}

export const durableLogger = new Logger('DurableStreams');
