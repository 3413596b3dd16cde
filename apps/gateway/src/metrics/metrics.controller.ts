import { Controller, Get, Header, type OnModuleDestroy } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GatewayTracer } from '../telemetry/gateway-tracer.js';

/** Prometheus metrics for operators: memory, event-loop delay, and whether telemetry keeps up. */
@ApiTags('health')
@Controller('metrics')
export class MetricsController implements OnModuleDestroy {
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor(private readonly tracer: GatewayTracer) {
    this.loopDelay.enable();
  }

  onModuleDestroy(): void {
    this.loopDelay.disable();
  }

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOkResponse({ description: 'Prometheus text format' })
  metrics(): string {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const t = this.tracer.counters;
    // Event-loop delay since the previous scrape (nanoseconds in the histogram).
    const p50 = this.loopDelay.percentile(50) / 1e9;
    const p99 = this.loopDelay.percentile(99) / 1e9;
    const max = this.loopDelay.max / 1e9;
    this.loopDelay.reset();
    const lines = [
      metric('process_resident_memory_bytes', 'gauge', 'Resident memory.', memory.rss),
      metric('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.', memory.heapUsed),
      metric('nodejs_heap_total_bytes', 'gauge', 'V8 heap reserved.', memory.heapTotal),
      metric('nodejs_external_memory_bytes', 'gauge', 'Memory of C++ objects bound to JavaScript (buffers included).', memory.external),
      metric('nodejs_array_buffers_bytes', 'gauge', 'Memory of ArrayBuffers and Buffers.', memory.arrayBuffers),
      metric('process_cpu_seconds_total', 'counter', 'User and system CPU time.', (cpu.user + cpu.system) / 1e6),
      metric('nodejs_eventloop_delay_p50_seconds', 'gauge', 'Event-loop delay p50 since the last scrape.', p50),
      metric('nodejs_eventloop_delay_p99_seconds', 'gauge', 'Event-loop delay p99 since the last scrape.', p99),
      metric('nodejs_eventloop_delay_max_seconds', 'gauge', 'Event-loop delay max since the last scrape.', max),
      metric('gateway_telemetry_spans_queued_total', 'counter', 'Spans ended on this replica.', t.spansQueued),
      metric('gateway_telemetry_spans_published_total', 'counter', 'Spans handed to the durable bus.', t.spansPublished),
      metric('gateway_telemetry_publish_failures_total', 'counter', 'Failed publish attempts (retried, nothing dropped).', t.publishFailures),
      metric('gateway_telemetry_spans_pending', 'gauge', 'Spans waiting to be published (back-pressure).', t.pending),
    ];
    return lines.join('');
  }
}

function metric(name: string, type: 'gauge' | 'counter', help: string, value: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${Number.isFinite(value) ? value : 0}\n`;
}
