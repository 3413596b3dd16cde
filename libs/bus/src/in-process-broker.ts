import { randomUUID } from 'node:crypto';

/**
 * An in-process stand-in for a NATS server, for embedded mode. It implements the part of the
 * NatsConnection interface that Nest's NATS transport uses (subscribe with queue groups, publish
 * with reply subjects and headers), and every payload crosses it as bytes, exactly as on the wire:
 * a handler never sees the sender's object, so serialisation bugs show up here as they would on NATS.
 */

type MsgCallback = (err: Error | null, msg: InProcessMsg) => void;

interface Subscriber {
  id: number;
  subject: string;
  tokens: string[];
  queue?: string;
  callback: MsgCallback;
  connection: InProcessConnection;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBytes(data: unknown): Uint8Array {
  if (data === undefined || data === null) return new Uint8Array(0);
  if (data instanceof Uint8Array) return new Uint8Array(data); // copy: the sender may reuse its buffer
  if (typeof data === 'string') return encoder.encode(data);
  throw new TypeError('in-process bus payloads must be strings or bytes, as on NATS');
}

/** A received message, shaped like @nats-io's Msg. */
export class InProcessMsg {
  constructor(
    readonly subject: string,
    readonly data: Uint8Array,
    readonly reply: string | undefined,
    readonly headers: unknown,
    private readonly connection: InProcessConnection,
  ) {}

  json<T = unknown>(): T {
    return JSON.parse(decoder.decode(this.data)) as T;
  }

  string(): string {
    return decoder.decode(this.data);
  }

  respond(data?: unknown, opts?: { headers?: unknown }): boolean {
    if (!this.reply) return false;
    this.connection.publish(this.reply, data, { headers: opts?.headers });
    return true;
  }
}

function matches(pattern: string[], subject: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '>') return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== '*' && p !== subject[i]) return false;
  }
  return pattern.length === subject.length;
}

export class InProcessBroker {
  private readonly subscribers = new Map<number, Subscriber>();
  private readonly queueCursor = new Map<string, number>();
  private nextId = 1;

  connect(): InProcessConnection {
    return new InProcessConnection(this);
  }

  /** @internal */
  add(sub: Omit<Subscriber, 'id' | 'tokens'>): number {
    const id = this.nextId++;
    this.subscribers.set(id, { ...sub, id, tokens: sub.subject.split('.') });
    return id;
  }

  /** @internal */
  remove(id: number): void {
    this.subscribers.delete(id);
  }

  /** @internal */
  route(subject: string, data: Uint8Array, reply: string | undefined, headers: unknown): void {
    const tokens = subject.split('.');
    const plain: Subscriber[] = [];
    const queues = new Map<string, Subscriber[]>();
    for (const sub of this.subscribers.values()) {
      if (!matches(sub.tokens, tokens)) continue;
      if (sub.queue === undefined) plain.push(sub);
      else {
        const group = queues.get(sub.queue) ?? [];
        group.push(sub);
        queues.set(sub.queue, group);
      }
    }
    const targets = [...plain];
    for (const [queue, members] of queues) {
      const cursor = (this.queueCursor.get(queue) ?? 0) % members.length;
      this.queueCursor.set(queue, cursor + 1);
      targets.push(members[cursor]);
    }
    for (const sub of targets) {
      // Each receiver gets its own copy of the bytes, delivered asynchronously like a network hop.
      const msg = new InProcessMsg(subject, new Uint8Array(data), reply, headers, sub.connection);
      setImmediate(() => {
        if (this.subscribers.has(sub.id)) sub.callback(null, msg);
      });
    }
  }
}

/** The subset of NatsConnection that Nest's ServerNats / ClientNats call. */
export class InProcessConnection {
  private readonly ownSubs = new Set<number>();
  private closedFlag = false;
  private resolveClosed!: () => void;
  private readonly closedPromise = new Promise<void>((resolve) => (this.resolveClosed = resolve));
  readonly info = { server_id: `in-process-${randomUUID()}` };

  constructor(private readonly broker: InProcessBroker) {}

  subscribe(subject: string, opts: { queue?: string; callback?: MsgCallback } = {}): { unsubscribe(): void; getSubject(): string } {
    if (!opts.callback) throw new Error('in-process subscriptions need a callback');
    const id = this.broker.add({ subject, queue: opts.queue, callback: opts.callback, connection: this });
    this.ownSubs.add(id);
    return {
      unsubscribe: () => {
        this.broker.remove(id);
        this.ownSubs.delete(id);
      },
      getSubject: () => subject,
    };
  }

  publish(subject: string, data?: unknown, opts: { reply?: string; headers?: unknown } = {}): void {
    if (this.closedFlag) throw new Error('connection closed');
    this.broker.route(subject, toBytes(data), opts.reply, opts.headers);
  }

  async flush(): Promise<void> {}

  isClosed(): boolean {
    return this.closedFlag;
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const id of this.ownSubs) this.broker.remove(id);
    this.ownSubs.clear();
    this.resolveClosed();
  }

  closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Nest iterates status updates until the connection closes; an in-process link has none. */
  async *status(): AsyncGenerator<never> {
    await this.closedPromise;
  }
}
