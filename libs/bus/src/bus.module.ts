import { Global, Module, type DynamicModule } from '@nestjs/common';
import { BusClient, BUS_CLIENT_PROXY, BUS_OPTIONS, type BusOptions } from './bus-client.js';
import { createBusClientProxy, type BusTransport } from './bus-transport.js';
import { DURABLE_STREAMS, type DurableStreams } from './durable-streams.js';

export const BUS_TRANSPORT = Symbol('BUS_TRANSPORT');

/** Gives a service its BusClient and, when it uses them, the durable streams. */
@Global()
@Module({})
export class BusModule {
  static forRoot(transport: BusTransport, options: BusOptions, durable?: DurableStreams): DynamicModule {
    return {
      module: BusModule,
      providers: [
        { provide: BUS_TRANSPORT, useValue: transport },
        { provide: BUS_OPTIONS, useValue: options },
        { provide: BUS_CLIENT_PROXY, useFactory: () => createBusClientProxy(transport) },
        { provide: DURABLE_STREAMS, useValue: durable ?? null },
        BusClient,
      ],
      exports: [BusClient, DURABLE_STREAMS, BUS_TRANSPORT],
    };
  }
}
