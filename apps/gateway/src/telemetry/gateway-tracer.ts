import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ROOT_CONTEXT, SpanKind, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { DURABLE_STREAMS, type DurableStreams } from '#libs/bus';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { BusSpanProcessor, type TelemetryCounters } from '#libs/telemetry';

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  get: (carrier: Record<string, string | string[] | undefined>, key: string) => carrier[key],
  keys: (carrier: Record<string, string | string[] | undefined>) => Object.keys(carrier),
};

/**
 * The gateway's own OpenTelemetry tracer. Its spans go to usage-metering over the durable bus,
 * batched off the request path. A caller's `traceparent` makes our span a child of theirs.
 */
@Injectable()
export class GatewayTracer implements OnApplicationShutdown {
  private readonly provider: TracerProvider;
  private readonly processor: BusSpanProcessor;
  private readonly tracer: Tracer;

  constructor(@Inject(DURABLE_STREAMS) durable: DurableStreams, @Inject(APP_CONFIG) config: Readonly<AppConfig>) {
    this.processor = new BusSpanProcessor(durable, { flushIntervalMs: config.telemetryFlushMs, maxBatchSize: 512, organisationId: config.organisationId });
    this.provider = new TracerProvider({ spanProcessors: [this.processor] });
    this.tracer = this.provider.getTracer('llm-gateway');
  }

  get counters(): TelemetryCounters {
    return this.processor.counters;
  }

  startClientSpan(name: string, attributes: Attributes, headers: Record<string, string | string[] | undefined>): Span {
    const parent = headers.traceparent ? propagator.extract(ROOT_CONTEXT, headers, headerGetter) : ROOT_CONTEXT;
    return this.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
  }

  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

