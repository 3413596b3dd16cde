import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DURABLE_STREAMS, type DurableStreams } from '#libs/bus';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { SpanAttributeValue } from '#libs/contracts';
import { CallSpan, monotonicSpanClock, RandomSpanIds, SpanPublisher, type SpanTenant, type TelemetryCounters } from '#libs/telemetry';

/**
 * The gateway's tracer: one span per call, sent to usage-metering over the durable bus, batched
 * off the request path. A caller's `traceparent` makes our span a child of theirs.
 */
@Injectable()
export class GatewayTracer implements OnApplicationShutdown {
  private readonly publisher: SpanPublisher;
  private readonly ids = new RandomSpanIds();

  constructor(@Inject(DURABLE_STREAMS) durable: DurableStreams, @Inject(APP_CONFIG) config: Readonly<AppConfig>) {
    this.publisher = new SpanPublisher(durable, { flushIntervalMs: config.telemetryFlushMs, maxBatchSize: 512 });
  }

  get counters(): TelemetryCounters {
    return this.publisher.counters;
  }

  startClientSpan(name: string, tenant: SpanTenant, attributes: Record<string, SpanAttributeValue>, headers: Record<string, string | string[] | undefined>): CallSpan {
    return new CallSpan(this.publisher, monotonicSpanClock, this.ids, { name, tenant, attributes, traceparent: headers.traceparent });
  }

  flush(): Promise<void> {
    return this.publisher.forceFlush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.shutdown();
  }
}
