import { ClientNats, ServerNats } from '@nestjs/microservices';
import type { InProcessBroker } from './in-process-broker.js';

/**
 * How a service reaches the bus: real NATS (distributed) or the in-process broker (embedded).
 * `namespace` prefixes every subject (not reply inboxes), so several deployments, or parallel
 * test runs, can share one NATS server without answering each other's requests.
 */
export type BusTransport =
  | { kind: 'nats'; servers: string[]; name: string; namespace?: string; user?: string; pass?: string }
  | { kind: 'in-process'; broker: InProcessBroker; name: string };

export function namespacedSubject(namespace: string | undefined, subject: string): string {
  return namespace && !subject.startsWith('_INBOX.') ? `${namespace}.${subject}` : subject;
}

interface SubjectsApi {
  subscribe(subject: string, opts?: unknown): unknown;
  publish(subject: string, data?: unknown, opts?: unknown): void;
}

/** Wraps a NATS connection so subscribe/publish see the namespaced subjects; all else passes through. */
function withNamespace<T extends object>(nc: T, namespace: string | undefined): T {
  if (!namespace) return nc;
  const api = nc as T & SubjectsApi;
  return new Proxy(nc, {
    get(target, prop, receiver) {
      if (prop === 'subscribe') return (subject: string, opts?: unknown) => api.subscribe(namespacedSubject(namespace, subject), opts);
      if (prop === 'publish') return (subject: string, data?: unknown, opts?: unknown) => api.publish(namespacedSubject(namespace, subject), data, opts);
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Connection options of a service on NATS: its own user, and replies on its own inbox prefix
 * (`_INBOX.<service>.`) so NATS permissions can keep one service from reading another's replies.
 */
export function natsConnectionOptions(transport: Extract<BusTransport, { kind: 'nats' }>, role: string) {
  return {
    servers: transport.servers,
    name: `${transport.name}-${role}`,
    maxReconnectAttempts: -1,
    inboxPrefix: `_INBOX.${transport.name}`,
    ...(transport.user ? { user: transport.user, pass: transport.pass } : {}),
  };
}

/** Nest's own NATS server; on the in-process broker instead of a socket in embedded mode. */
class BusServer extends ServerNats {
  constructor(private readonly transport: BusTransport) {
    super(transport.kind === 'nats' ? natsConnectionOptions(transport, 'server') : {});
  }

  override async createNatsClient(): Promise<never> {
    if (this.transport.kind === 'in-process') return this.transport.broker.connect() as never;
    return withNamespace(await super.createNatsClient(), this.transport.namespace) as never;
  }
}

/** Nest's own NATS client; on the in-process broker instead of a socket in embedded mode. */
class BusClientProxy extends ClientNats {
  constructor(private readonly transport: BusTransport) {
    super(transport.kind === 'nats' ? natsConnectionOptions(transport, 'client') : {});
  }

  override async createClient(): Promise<never> {
    if (this.transport.kind === 'in-process') return this.transport.broker.connect() as never;
    return withNamespace(await super.createClient(), this.transport.namespace) as never;
  }
}

export function createBusServer(transport: BusTransport): ServerNats {
  return new BusServer(transport);
}

export function createBusClientProxy(transport: BusTransport): ClientNats {
  return new BusClientProxy(transport);
}
