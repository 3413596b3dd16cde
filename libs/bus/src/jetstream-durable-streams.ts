import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TELEMETRY_STREAM, type DurableMessages, type DurableSubject } from '#libs/contracts';
import {
  DEFAULT_CONSUMER_OPTIONS,
  deadLetterFor,
  durableLogger,
  JsonBytes,
  type DurableConsumerOptions,
  type DurablePayload,
  type DurableHandler,
  type DurableStreams,
  type DurableSubscription,
} from './durable-streams.js';
import { namespacedSubject, natsConnectionOptions, type BusTransport } from './bus-transport.js';

const encoder = new TextEncoder();
const NANOS_PER_MS = 1_000_000;

/** Durable messages on NATS JetStream: file storage, de-duplication window, explicit acks, dead letters. */
export class JetStreamDurableStreams implements DurableStreams {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly namespace: string | undefined,
    private readonly streamName: string,
  ) {}

  /** `namespace` prefixes the stream's subjects and name, as BusTransport does for plain subjects. */
  static async connect(transport: Extract<BusTransport, { kind: 'nats' }>): Promise<JetStreamDurableStreams> {
    const namespace = transport.namespace;
    const nc = await connect(natsConnectionOptions(transport, 'jetstream'));
    const jsm = await jetstreamManager(nc);
    const streamName = namespace ? `${namespace.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}_${TELEMETRY_STREAM.name}` : TELEMETRY_STREAM.name;
    const config = {
      name: streamName,
      subjects: TELEMETRY_STREAM.subjects.map((s) => namespacedSubject(namespace, s)),
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: 7 * 24 * 3600 * 1000 * NANOS_PER_MS,
      duplicate_window: 2 * 60 * 1000 * NANOS_PER_MS,
    };
    try {
      await jsm.streams.info(streamName);
      await jsm.streams.update(streamName, config);
    } catch {
      await jsm.streams.add(config);
    }
    return new JetStreamDurableStreams(nc, jetstream(nc), namespace, streamName);
  }

  async publish<S extends DurableSubject>(subject: S, payload: DurablePayload<S>, msgId: string): Promise<void> {
    const bytes = payload instanceof JsonBytes ? payload.bytes : encoder.encode(JSON.stringify(payload));
    await this.js.publish(namespacedSubject(this.namespace, subject), bytes, { msgID: msgId });
  }

  async consume<S extends DurableSubject>(
    subject: S,
    durableName: string,
    handler: DurableHandler<S>,
    overrides: Partial<DurableConsumerOptions> = {},
  ): Promise<DurableSubscription> {
    const options = { ...DEFAULT_CONSUMER_OPTIONS, ...overrides };
    const jsm = await jetstreamManager(this.nc);
    const consumerConfig = {
      durable_name: durableName,
      filter_subject: namespacedSubject(this.namespace, subject),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000 * NANOS_PER_MS,
      max_deliver: options.maxDeliver,
    };
    try {
      await jsm.consumers.info(this.streamName, durableName);
      await jsm.consumers.update(this.streamName, durableName, consumerConfig);
    } catch {
      await jsm.consumers.add(this.streamName, consumerConfig);
    }
    const consumer = await this.js.consumers.get(this.streamName, durableName);
    const messages: ConsumerMessages = await consumer.consume({ max_messages: 64 });
    const handle = async (m: JsMsg): Promise<void> => {
      const msgId = m.headers?.get('Nats-Msg-Id') || `${m.info.stream}:${m.seq}`;
      try {
        await handler(m.json<DurableMessages[S]>(), { msgId, deliveryCount: m.info.deliveryCount });
        m.ack();
      } catch (err) {
        if (m.info.deliveryCount >= options.maxDeliver) {
          const letter = deadLetterFor(subject, msgId, durableName, err, m.string());
          await this.js.publish(namespacedSubject(this.namespace, TELEMETRY_STREAM.deadLetterSubject), encoder.encode(JSON.stringify(letter)), { msgID: `dead:${durableName}:${msgId}` });
          // No reason: nats-server before 2.10 ignores a term that carries one, and the message would stay pending.
          m.term();
          durableLogger.error(`message ${msgId} on ${subject} dead-lettered after ${m.info.deliveryCount} deliveries: ${letter.error}`);
        } else {
          durableLogger.warn(`message ${msgId} failed (delivery ${m.info.deliveryCount}), retrying: ${String(err)}`);
          m.nak(options.retryDelayMs);
        }
      }
    };
    const loop = (async () => {
      // Up to `concurrency` handlers at once; stop() waits for every one in hand.
      const inHand = new Set<Promise<void>>();
      for await (const m of messages) {
        const handled: Promise<void> = handle(m)
          .catch((err: unknown) => durableLogger.error(`message on ${subject} not settled: ${String(err)}`))
          .finally(() => inHand.delete(handled));
        inHand.add(handled);
        if (inHand.size >= options.concurrency) await Promise.race(inHand);
      }
      await Promise.all(inHand);
    })();
    return {
      stop: async () => {
        await messages.close();
        await loop;
      },
    };
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain();
  }

  /** Removes the stream and everything in it (tests use it to clean up their namespace). */
  async deleteStream(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await jsm.streams.delete(this.streamName).catch(() => undefined);
  }

  async ping(): Promise<void> {
    await this.nc.flush();
  }
}
