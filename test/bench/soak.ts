import { performance } from 'node:perf_hooks';
import { makeClient, send, type Expectation, type Outcome, type PreparedRequest } from './load-generator.js';
import { scrapeMetrics } from './metering.js';
import { cpuSeconds, rssBytes } from './proc-stats.js';
import { BENCH_MODELS } from './product-setup.js';
import { prepareChatRequest } from './requests.js';
import type { BenchContext } from './scenarios.js';
import { median as medianOf, percentile, Samples } from './stats.js';

/**
 * Soak: steady closed-loop load on the gateway (three quarters non-streaming, a quarter streaming)
 * for the whole duration, with a line every 10 s: throughput, latency, RSS, heap, event-loop delay
 * (from the gateway's /metrics when it has them) and the telemetry queue. Then RSS growth after warm-up.
 */

export interface SoakSample {
  tS: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  rssMb: number;
  heapMb: number;
  eventLoopP99Ms: number;
  spansPending: number;
  cpuPct: number;
  /** Gateway requests answered so far that metering has not stored a usage record for yet. */
  meteringBehind: number;
}

export interface SoakResult {
  durationS: number;
  concurrency: number;
  warmupS: number;
  samples: SoakSample[];
  sent: number;
  ok: number;
  failed: number;
  errors: Record<string, number>;
  rssAfterWarmupMb: number;
  rssFinalMb: number;
  rssMaxAfterWarmupMb: number;
  /** (final - after warm-up) / after warm-up, %. */
  rssGrowthPct: number;
  /** Least-squares slope of RSS after warm-up, MB per minute. */
  rssSlopeMbPerMin: number;
  eventLoopDelayAvailable: boolean;
  /** The metric's reading on an idle gateway (its sampling interval shows through). */
  idleEventLoopP99Ms: number;
  usage: { sent: number; stored: number };
}

const INTERVAL_MS = 10_000;

function slope(points: { x: number; y: number }[]): number {
  if (points.length < 2) return Number.NaN;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const num = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return den === 0 ? Number.NaN : num / den;
}

export async function runSoak(ctx: BenchContext): Promise<SoakResult> {
  const { options } = ctx;
  const durationMs = options.durationMs;
  const concurrency = options.soakConcurrency;
  const streaming = Math.max(1, Math.floor(concurrency / 4));
  const json = Math.max(1, concurrency - streaming);
  const warmupS = Math.min(60, Math.floor(durationMs / 3000));
  const pool = makeClient(ctx.gateway.origin, json + streaming);
  const jsonRequest = prepareChatRequest({ kind: 'gateway', model: BENCH_MODELS.plain, stream: false, prompt: 'short' }, ctx.gateway);
  const streamRequest = prepareChatRequest({ kind: 'gateway', model: BENCH_MODELS.plain, stream: true, prompt: 'short' }, ctx.gateway);
  const okBefore = ctx.gatewayOk;
  const recordsBefore = await ctx.metering.count();

  let bucket = { latency: new Samples(), ok: 0, failed: 0 };
  const result: SoakResult = {
    durationS: durationMs / 1000,
    concurrency: json + streaming,
    warmupS,
    samples: [],
    sent: 0,
    ok: 0,
    failed: 0,
    errors: {},
    rssAfterWarmupMb: Number.NaN,
    rssFinalMb: Number.NaN,
    rssMaxAfterWarmupMb: Number.NaN,
    rssGrowthPct: Number.NaN,
    rssSlopeMbPerMin: Number.NaN,
    eventLoopDelayAvailable: false,
    idleEventLoopP99Ms: Number.NaN,
    usage: { sent: 0, stored: 0 },
  };

  // The gateway's histogram samples on a timer, so even an idle loop reads about that interval: show the idle reading.
  await scrapeMetrics(ctx.gateway.origin); // each scrape resets the histogram: start a clean idle second
  await new Promise((r) => setTimeout(r, 1000));
  const idle = (await scrapeMetrics(ctx.gateway.origin))?.get('nodejs_eventloop_delay_p99_seconds');
  result.idleEventLoopP99Ms = idle === undefined ? Number.NaN : idle * 1000;
  if (idle !== undefined) ctx.log(`gateway event-loop delay p99 while idle: ${(idle * 1000).toFixed(2)} ms (the floor of that metric)`);
  ctx.log(`soak: ${json} non-streaming + ${streaming} streaming callers on the gateway for ${durationMs / 1000} s; warm-up ${warmupS} s; a line every ${INTERVAL_MS / 1000} s`);
  ctx.log('     t  req/s   p50 ms   p99 ms  errors  RSS MB  heap MB  ev-loop p99 ms  spans pending  gw CPU %  metering behind');
  const start = performance.now();
  const stopAt = start + durationMs;
  let lastTick = start;
  let lastCpu = cpuSeconds(ctx.gateway.pid) ?? Number.NaN;

  const tick = async (): Promise<void> => {
    const now = performance.now();
    const b = bucket;
    bucket = { latency: new Samples(), ok: 0, failed: 0 };
    const metrics = await scrapeMetrics(ctx.gateway.origin);
    const cpu = cpuSeconds(ctx.gateway.pid) ?? Number.NaN;
    const stored = await ctx.metering.count();
    const loopP99 = metrics?.get('nodejs_eventloop_delay_p99_seconds');
    const rssFromMetrics = metrics?.get('process_resident_memory_bytes');
    const rss = rssFromMetrics ?? rssBytes(ctx.gateway.pid) ?? Number.NaN;
    if (loopP99 !== undefined) result.eventLoopDelayAvailable = true;
    const sorted = b.latency.sorted();
    const sample: SoakSample = {
      tS: Math.round((now - start) / 1000),
      rps: b.ok / ((now - lastTick) / 1000),
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      errors: b.failed,
      rssMb: rss / (1024 * 1024),
      heapMb: (metrics?.get('nodejs_heap_used_bytes') ?? Number.NaN) / (1024 * 1024),
      eventLoopP99Ms: loopP99 === undefined ? Number.NaN : loopP99 * 1000,
      spansPending: metrics?.get('gateway_telemetry_spans_pending') ?? Number.NaN,
      cpuPct: ((cpu - lastCpu) / ((now - lastTick) / 1000)) * 100,
      meteringBehind: ctx.recordsBaseline + ctx.gatewayOk - stored,
    };
    lastTick = now;
    lastCpu = cpu;
    result.samples.push(sample);
    const f = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
    ctx.log(
      `${`${sample.tS}s`.padStart(6)} ${f(sample.rps, 0).padStart(6)} ${f(sample.p50, 3).padStart(8)} ${f(sample.p99, 3).padStart(8)} ${String(sample.errors).padStart(7)} ${f(sample.rssMb).padStart(7)} ${f(sample.heapMb).padStart(8)} ${f(sample.eventLoopP99Ms, 2).padStart(15)} ${f(sample.spansPending, 0).padStart(14)} ${f(sample.cpuPct, 0).padStart(9)} ${String(sample.meteringBehind).padStart(16)}`,
    );
  };

  await new Promise<void>((resolve) => {
    let callers = json + streaming;
    const timer = setInterval(() => void tick(), INTERVAL_MS);
    const caller = (request: PreparedRequest, expect: Expectation): void => {
      result.sent++;
      send(pool, request, expect, (o: Outcome) => {
        if (o.ok) {
          result.ok++;
          ctx.gatewayOk++;
          bucket.ok++;
          bucket.latency.push(o.totalMs);
        } else {
          result.failed++;
          bucket.failed++;
          const k = o.error ?? 'unknown';
          result.errors[k] = (result.errors[k] ?? 0) + 1;
        }
        if (performance.now() < stopAt) caller(request, expect);
        else if (--callers === 0) {
          clearInterval(timer);
          resolve();
        }
      });
    };
    for (let i = 0; i < json; i++) caller(jsonRequest, { kind: 'json' });
    for (let i = 0; i < streaming; i++) caller(streamRequest, { kind: 'sse' });
  });
  await pool.close().catch(() => undefined);
  if (performance.now() - lastTick > INTERVAL_MS / 2) await tick();

  const after = result.samples.filter((s) => s.tS >= warmupS && Number.isFinite(s.rssMb));
  if (after.length > 0) {
    result.rssAfterWarmupMb = after[0]!.rssMb;
    result.rssFinalMb = after.at(-1)!.rssMb;
    result.rssMaxAfterWarmupMb = Math.max(...after.map((s) => s.rssMb));
    result.rssGrowthPct = ((result.rssFinalMb - result.rssAfterWarmupMb) / result.rssAfterWarmupMb) * 100;
    result.rssSlopeMbPerMin = slope(after.map((s) => ({ x: s.tS / 60, y: s.rssMb }))) ;
  }
  const sent = ctx.gatewayOk - okBefore;
  const stored = (await ctx.metering.waitFor(ctx.recordsBaseline + ctx.gatewayOk, 60_000)) - recordsBefore;
  result.usage = { sent, stored };
  return result;
}

export function soakSummary(r: SoakResult): string {
  const f = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  const growthPass = Number.isFinite(r.rssGrowthPct) ? r.rssGrowthPct < 10 : undefined;
  const usagePass = r.usage.stored === r.usage.sent;
  const mark = (p: boolean | undefined): string => (p === undefined ? 'n/a ' : p ? 'PASS' : 'FAIL');
  const lines = [
    `soak: ${r.durationS} s at concurrency ${r.concurrency}: ${r.ok} answered, ${r.failed} failed${r.failed ? ` ${JSON.stringify(r.errors)}` : ''}`,
    `RSS after warm-up (${r.warmupS} s) ${f(r.rssAfterWarmupMb)} MB, final ${f(r.rssFinalMb)} MB, max ${f(r.rssMaxAfterWarmupMb)} MB; trend ${f(r.rssSlopeMbPerMin, 2)} MB/min`,
    `event-loop delay: ${r.eventLoopDelayAvailable ? `from the gateway's /metrics (idle reading ${f(r.idleEventLoopP99Ms, 2)} ms); p99 over the run's lines: median ${f(medianOf(r.samples.map((s) => s.eventLoopP99Ms)), 2)} ms, max ${f(Math.max(...r.samples.map((s) => s.eventLoopP99Ms)), 2)} ms` : 'n/a (the gateway has no nodejs_eventloop_delay_p99_seconds yet); RSS read from /proc'}`,
    `metering: at most ${Math.max(...r.samples.map((s) => s.meteringBehind))} records behind the gateway at a 10 s line; ${r.samples.at(-1)?.meteringBehind ?? 'n/a'} at the last line`,
    `  ${mark(growthPass)}  soak: RSS growth after warm-up < 10%: ${f(r.rssGrowthPct)}%${r.durationS < 600 ? ` (a ${r.durationS} s run; the target is for 10 minutes)` : ''}`,
    `  ${mark(usagePass)}  usage records stored = gateway requests answered: ${r.usage.stored}/${r.usage.sent}`,
  ];
  if (!usagePass) lines.push(`!!! USAGE RECORDS MISMATCH: metering stored ${r.usage.stored} records for ${r.usage.sent} answered gateway requests !!!`);
  return lines.join('\n');
}
