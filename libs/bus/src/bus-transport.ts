import { ClientNats, ServerNats } from '@nestjs/microservices';
import type { InProcessBroker } from './in-process-broker.js';

/** How a service reaches the bus: real NATS (distributed) or the in-process broker (embedded). */
export type BusTransport =
  | { kind: 'nats'; servers: string[]; name: string }
  | { kind: 'in-process'; broker: InProcessBroker; name: string };

/** Nest's own NATS server, connected to the in-process broker instead of a socket. */
class InProcessServer extends ServerNats {
  constructor(private readonly broker: InProcessBroker) {
    super({});
  }

  override async createNatsClient(): Promise<never> {
    return this.broker.connect() as never;
  }
}

/** Nest's own NATS client, connected to the in-process broker instead of a socket. */
class InProcessClient extends ClientNats {
  constructor(private readonly broker: InProcessBroker) {
    super({});
  }

  override async createClient(): Promise<never> {
    return this.broker.connect() as never;
  }
}

export function createBusServer(transport: BusTransport): ServerNats {
  if (transport.kind === 'in-process') return new InProcessServer(transport.broker);
  return new ServerNats({ servers: transport.servers, name: `${transport.name}-server`, maxReconnectAttempts: -1 });
}

export function createBusClientProxy(transport: BusTransport): ClientNats {
  if (transport.kind === 'in-process') return new InProcessClient(transport.broker);
  return new ClientNats({ servers: transport.servers, name: `${transport.name}-client`, maxReconnectAttempts: -1 });
}
