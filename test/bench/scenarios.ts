import { performance } from 'node:perf_hooks';
import type { BenchOptions } from './bench-options.js';
import { closedLoop, makeClient, send, sendOnce, type Expectation, type LoadClient, type LoopResult, type Outcome, type PreparedRequest } from './load-generator.js';
import { scrapeMetrics, type UsageRecordCounter } from './metering.js';
import { cpuBusyPct, cpuSeconds, cpuTimes, rssBytes, RssSampler, stealPct } from './proc-stats.js';
import { BENCH_MODELS } from './product-setup.js';
import { prepareChatRequest, prepareRequest, type PathKind, type Prompt, type RequestShape } from './requests.js';
import { median, percentile, Samples, spreadPct } from './stats.js';

/**
 * The scenarios: throughput and latency at concurrency 1 and 64 (JSON and SSE), the input-limit
 * check on a 100 KB prompt, 1,000 streams held open, and the no-buffering check (issue 4); then
 * embeddings, and chat across formats, Anthropic client to OpenAI upstream and the reverse (issue 12).
 * Paths are measured interleaved in rounds (direct, floor, gateway, direct, ...) so drift shows as
 * spread, not bias.
 */

export const SCENARIO_IDS = [
  'json-c1',
  'json-c64',
  'stream-c1',
  'stream-c64',
  'limit-100k',
  'limit-tight',
  'no-buffering',
  'streams-1000',
  'embeddings-c64',
  'embeddings-float-c64',
  'anthropic-to-openai-c64',
  'anthropic-to-openai-stream-c64',
  'openai-to-anthropic-c64',
  'openai-to-anthropic-stream-c64',
  'policy-c64',
] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface Server {
  origin: string;
  pid: number;
}

/** The running pieces the scenarios measure. */
export interface BenchContext {
  options: BenchOptions;
  upstream: Server;
  slowUpstream: Server & { chunkDelayMs: number; contentChunks: number };
  /** The Anthropic-format upstream (POST /v1/messages). */
  anthropicUpstream: Server;
  floor: Server;
  gateway: Server & { clientKey: string };
  metering: UsageRecordCounter;
  /** Gateway requests answered successfully so far (each must become one usage record with its usage reported). */
  gatewayOk: number;
  /** Gateway requests that failed so far (each may leave at most one record, of usage partial or missing). */
  gatewayFailed: number;
  /** Reported usage records in the table before the first gateway request (0 on the fresh database). */
  recordsBaseline: number;
  /** Usage-missing or partial records in the table before the first gateway request. */
  unreportedBaseline: number;
  log(line: string): void;
}

/** What one round measures on a path; a path's summary holds the medians of the same figures. */
export interface PathFigures {
  rps: number;
  p50: number;
  p99: number;
  ttfbP50: number;
  ttfbP99: number;
  /** CPU time of the process that answers the path (upstream, floor or gateway) per successful request. */
  cpuUsPerReq: number;
  /** That process's CPU use, in % of one CPU. */
  cpuPct: number;
  rssMb: number;
  cpuBusy: Record<string, number>;
}

export interface RoundResult extends PathFigures {
  round: number;
  ok: number;
  failed: number;
  /**
   * Gateway rounds: the usage records metering had not stored yet when the round ended, and how
   * long after the end it had stored them all (what metering left for after the round).
   */
  metering?: { backlogAtEnd: number; catchUpS: number };
}

export interface PathSummary extends PathFigures {
  label: string;
  kind: PathKind;
  rounds: RoundResult[];
  ok: number;
  failed: number;
  errors: Record<string, number>;
  /** (max - min) / median across rounds, %. */
  rpsSpreadPct: number;
  p50SpreadPct: number;
  /** Extra figures of the special scenarios. */
  extra?: Record<string, number | string | boolean>;
  /** Every warm-up request of this path failed, so it ran no rounds: what it answered. */
  unavailable?: string;
}

export interface ScenarioResult {
  id: ScenarioId;
  /** Gateway rounds: the largest metering backlog at a round's end and the longest catch-up after one. */
  meteringLag?: { maxBacklog: number; maxCatchUpS: number };
  title: string;
  concurrency: number;
  stream: boolean;
  /** No target rides on it; shown for the gateway owner. */
  informational?: boolean;
  paths: PathSummary[];
  /** Gateway requests answered in this scenario vs usage records metering stored for them. */
  usage: ScenarioUsage;
  /** The gateway's memory once the scenario is over. */
  gatewayAfter: { rssMb: number; heapUsedMb: number };
  notes: string[];
}

/**
 * Gateway requests of a scenario against the usage records they left: `stored` (usage reported) must
 * equal `sent` (answered successfully), and `unreported` (usage partial or missing) must not exceed
 * `failed` (the product records a failed call as usage-missing when it got as far as a call).
 */
export interface ScenarioUsage {
  sent: number;
  stored: number;
  failed: number;
  unreported: number;
}

export function usageMismatch(u: ScenarioUsage): boolean {
  return u.stored !== u.sent || u.unreported > u.failed;
}

interface PathSpec {
  label: string;
  shape: RequestShape;
}

interface ThroughputSpec {
  id: ScenarioId;
  title: string;
  concurrency: number;
  stream: boolean;
  prompt: Prompt;
  informational?: boolean;
  paths: PathSpec[];
}

function threePaths(stream: boolean, prompt: Prompt): PathSpec[] {
  return [
    { label: 'direct', shape: { kind: 'direct', model: BENCH_MODELS.plain, stream, prompt } },
    { label: 'floor', shape: { kind: 'floor', model: BENCH_MODELS.plain, stream, prompt } },
    { label: 'gateway', shape: { kind: 'gateway', model: BENCH_MODELS.plain, stream, prompt } },
  ];
}

/**
 * The cross-format scenarios' paths. Floor: the plain OpenAI->OpenAI proxying of the same call on
 * the OpenAI-format upstream (the gateway additionally translates the request and the answer);
 * direct: the client's call straight to the upstream the gateway calls.
 */
function anthropicToOpenAI(stream: boolean): PathSpec[] {
  return [
    { label: 'direct', shape: { kind: 'direct', model: BENCH_MODELS.plain, stream, prompt: 'short' } },
    { label: 'floor', shape: { kind: 'floor', model: BENCH_MODELS.plain, stream, prompt: 'short' } },
    // Anthropic's SDKs send x-api-key, or Bearer when given an auth token: one of each.
    { label: 'gateway', shape: { kind: 'gateway', api: 'messages', model: BENCH_MODELS.plain, stream, prompt: 'short', bearer: stream } },
  ];
}

function openAIToAnthropic(stream: boolean): PathSpec[] {
  return [
    { label: 'direct', shape: { kind: 'direct', api: 'messages', anthropicUpstream: true, model: BENCH_MODELS.claude, stream, prompt: 'short' } },
    { label: 'floor', shape: { kind: 'floor', model: BENCH_MODELS.plain, stream, prompt: 'short' } },
    { label: 'gateway', shape: { kind: 'gateway', model: BENCH_MODELS.claude, stream, prompt: 'short' } },
  ];
}

function embeddings(encoding: 'base64' | 'float'): PathSpec[] {
  return (['direct', 'floor', 'gateway'] as const).map((kind) => ({ label: kind, shape: { kind, api: 'embeddings', encoding, model: BENCH_MODELS.embedding, stream: false, prompt: 'short' } }));
}

const THROUGHPUT: Record<string, ThroughputSpec> = {
  'json-c1': { id: 'json-c1', title: 'non-streaming, concurrency 1', concurrency: 1, stream: false, prompt: 'short', paths: threePaths(false, 'short') },
  'json-c64': { id: 'json-c64', title: 'non-streaming, concurrency 64', concurrency: 64, stream: false, prompt: 'short', paths: threePaths(false, 'short') },
  'stream-c1': { id: 'stream-c1', title: 'streaming 20 chunks + usage, concurrency 1', concurrency: 1, stream: true, prompt: 'short', paths: threePaths(true, 'short') },
  'stream-c64': { id: 'stream-c64', title: 'streaming 20 chunks + usage, concurrency 64', concurrency: 64, stream: true, prompt: 'short', paths: threePaths(true, 'short') },
  'limit-100k': {
    id: 'limit-100k',
    title: `100 KB prompt, concurrency 1: model with max_input_tokens (above the byte count) vs without`,
    concurrency: 1,
    stream: false,
    prompt: '100k',
    paths: [
      ...threePaths(false, '100k'),
      { label: 'gateway+limit', shape: { kind: 'gateway', model: BENCH_MODELS.limited, stream: false, prompt: '100k' } },
    ],
  },
  'limit-tight': {
    id: 'limit-tight',
    title: '100 KB prompt, concurrency 1: max_input_tokens below the byte count (tokens must be counted)',
    concurrency: 1,
    stream: false,
    prompt: '100k',
    informational: true,
    paths: [
      { label: 'gateway', shape: { kind: 'gateway', model: BENCH_MODELS.plain, stream: false, prompt: '100k' } },
      { label: 'gateway+tight', shape: { kind: 'gateway', model: BENCH_MODELS.tight, stream: false, prompt: '100k' } },
    ],
  },
  'policy-c64': {
    id: 'policy-c64',
    title: 'non-streaming, concurrency 64: the plain model vs one with retries, circuit breakers, failover and rate limits configured but not triggered',
    concurrency: 64,
    stream: false,
    prompt: 'short',
    paths: [...threePaths(false, 'short'), { label: 'gateway+policy', shape: { kind: 'gateway', model: BENCH_MODELS.policy, stream: false, prompt: 'short' } }],
  },
  'embeddings-c64': { id: 'embeddings-c64', title: 'embeddings, a few sentences, 1536 dimensions as base64 (the openai client\'s default), concurrency 64', concurrency: 64, stream: false, prompt: 'short', paths: embeddings('base64') },
  'embeddings-float-c64': { id: 'embeddings-float-c64', title: 'embeddings, a few sentences, 1536 dimensions as floats, concurrency 64', concurrency: 64, stream: false, prompt: 'short', paths: embeddings('float') },
  'anthropic-to-openai-c64': {
    id: 'anthropic-to-openai-c64',
    title: 'Anthropic-format client (POST /v1/messages) to the OpenAI-format upstream, non-streaming, concurrency 64; floor = OpenAI->OpenAI',
    concurrency: 64,
    stream: false,
    prompt: 'short',
    paths: anthropicToOpenAI(false),
  },
  'anthropic-to-openai-stream-c64': {
    id: 'anthropic-to-openai-stream-c64',
    title: 'Anthropic-format client to the OpenAI-format upstream, streaming 20 chunks, concurrency 64; floor = OpenAI->OpenAI',
    concurrency: 64,
    stream: true,
    prompt: 'short',
    paths: anthropicToOpenAI(true),
  },
  'openai-to-anthropic-c64': {
    id: 'openai-to-anthropic-c64',
    title: 'OpenAI-format client to the Anthropic-format upstream, non-streaming, concurrency 64; floor = OpenAI->OpenAI, direct = the Anthropic upstream',
    concurrency: 64,
    stream: false,
    prompt: 'short',
    paths: openAIToAnthropic(false),
  },
  'openai-to-anthropic-stream-c64': {
    id: 'openai-to-anthropic-stream-c64',
    title: 'OpenAI-format client to the Anthropic-format upstream, streaming 20 text deltas, concurrency 64; floor = OpenAI->OpenAI, direct = the Anthropic upstream',
    concurrency: 64,
    stream: true,
    prompt: 'short',
    paths: openAIToAnthropic(true),
  },
};

/**
 * --profile --profile-scenario: the floor's and the gateway's request of a throughput scenario and
 * what their answers must look like; undefined for a scenario without both paths.
 */
export function profiledRequests(id: ScenarioId, auth: { clientKey: string }): Record<'floor' | 'gateway', { request: PreparedRequest; expect: Expectation; concurrency: number }> | undefined {
  const spec = THROUGHPUT[id];
  const floor = spec?.paths.find((p) => p.label === 'floor');
  const gateway = spec?.paths.find((p) => p.label === 'gateway');
  if (!spec || !floor || !gateway) return undefined;
  const of = (p: PathSpec) => ({ request: prepareRequest(p.shape, auth), expect: expectationFor(p.shape), concurrency: spec.concurrency });
  return { floor: of(floor), gateway: of(gateway) };
}

export async function runScenario(id: ScenarioId, ctx: BenchContext): Promise<ScenarioResult> {
  const before = await ctx.metering.counts();
  const okBefore = ctx.gatewayOk;
  const failedBefore = ctx.gatewayFailed;
  let result: Omit<ScenarioResult, 'usage' | 'gatewayAfter'>;
  if (id === 'streams-1000') result = await heldOpenStreams(ctx);
  else if (id === 'no-buffering') result = await noBuffering(ctx);
  else result = await throughput(THROUGHPUT[id]!, ctx);
  const sent = ctx.gatewayOk - okBefore;
  const failed = ctx.gatewayFailed - failedBefore;
  await ctx.metering.waitFor(ctx.recordsBaseline + ctx.gatewayOk, 30_000);
  // Records of failed calls (usage missing) have no count to wait for: wait until none arrives any more.
  const after = failed > 0 ? await ctx.metering.settle(15_000) : await ctx.metering.counts();
  return { ...result, usage: { sent, stored: after.reported - before.reported, failed, unreported: after.unreported - before.unreported }, gatewayAfter: await gatewayMemory(ctx) };
}

/** The gateway's V8 heap in use, from its /metrics (NaN when it has none). */
async function gatewayHeapMb(ctx: BenchContext): Promise<number> {
  const metrics = await scrapeMetrics(ctx.gateway.origin);
  return (metrics?.get('nodejs_heap_used_bytes') ?? Number.NaN) / (1024 * 1024);
}

/** The gateway's memory after a scenario: RSS from /proc, heap in use from /metrics. */
export async function gatewayMemory(ctx: BenchContext): Promise<{ rssMb: number; heapUsedMb: number }> {
  return { rssMb: mb(rssBytes(ctx.gateway.pid)), heapUsedMb: await gatewayHeapMb(ctx) };
}

function serverOf(kind: PathKind, ctx: BenchContext, slow = false): Server {
  if (kind === 'gateway') return ctx.gateway;
  if (kind === 'floor') return ctx.floor;
  return slow ? ctx.slowUpstream : ctx.upstream;
}

function serverFor(shape: RequestShape, ctx: BenchContext): Server {
  return shape.kind === 'direct' && shape.anthropicUpstream ? ctx.anthropicUpstream : serverOf(shape.kind, ctx, shape.slow);
}

function expectation(stream: boolean): Expectation {
  return stream ? { kind: 'sse' } : { kind: 'json' };
}

/** A stream of the messages API ends with Anthropic's message_stop, not [DONE]. */
function expectationFor(shape: RequestShape): Expectation {
  return shape.stream && shape.api === 'messages' ? { kind: 'anthropic-sse' } : expectation(shape.stream);
}

/** A gateway request's outcome, counted against the usage records it must (success) or may (failure) leave. */
function countGateway(ctx: BenchContext, kind: PathKind, r: { ok: number; failed: number }): void {
  if (kind !== 'gateway') return;
  ctx.gatewayOk += r.ok;
  ctx.gatewayFailed += r.failed;
}

/** One request, for a path whose every warm-up request failed: its status and the start of its body, for the log. */
async function probe(pool: LoadClient, request: ReturnType<typeof prepareRequest>): Promise<{ text: string; ok: boolean }> {
  return new Promise((resolve) => {
    let status = 0;
    let body = '';
    pool.request(request, {
      onStart: (s) => void (status = s),
      onData: (c) => void (body.length < 400 && (body += c.toString('utf8'))),
      onEnd: () => resolve({ text: `HTTP ${status}: ${body.slice(0, 400).replace(/\s+/g, ' ')}`, ok: status === 200 }),
      onError: (e) => resolve({ text: `no answer: ${e.message}`, ok: false }),
    });
  });
}

function mb(bytes: number | undefined): number {
  return bytes === undefined ? Number.NaN : bytes / (1024 * 1024);
}

function busyRecord(m: Map<number, number>): Record<string, number> {
  return Object.fromEntries([...m].map(([cpu, pct]) => [`cpu${cpu}`, pct]));
}

function mergeErrors(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function summarise(label: string, kind: PathKind, rounds: RoundResult[], errors: Record<string, number>): PathSummary {
  const med = (f: (r: RoundResult) => number): number => median(rounds.map(f));
  const cpus = new Set(rounds.flatMap((r) => Object.keys(r.cpuBusy)));
  return {
    label,
    kind,
    rounds,
    ok: rounds.reduce((a, r) => a + r.ok, 0),
    failed: rounds.reduce((a, r) => a + r.failed, 0),
    errors,
    rps: med((r) => r.rps),
    p50: med((r) => r.p50),
    p99: med((r) => r.p99),
    ttfbP50: med((r) => r.ttfbP50),
    ttfbP99: med((r) => r.ttfbP99),
    cpuUsPerReq: med((r) => r.cpuUsPerReq),
    cpuPct: med((r) => r.cpuPct),
    rssMb: med((r) => r.rssMb),
    cpuBusy: Object.fromEntries([...cpus].sort().map((c) => [c, med((r) => r.cpuBusy[c] ?? Number.NaN)])),
    rpsSpreadPct: spreadPct(rounds.map((r) => r.rps)),
    p50SpreadPct: spreadPct(rounds.map((r) => r.p50)),
  };
}

/**
 * Before the first scenario: every proxy gets mixed load long enough for V8 to optimise its hot path
 * (the gateway's CPU per request still fell by a third between 3 s rounds without it), so a
 * scenario's figures do not depend on which scenarios ran before it.
 */
export async function warmUpAll(ctx: BenchContext, durationMs: number, scenarios: readonly ScenarioId[]): Promise<void> {
  for (const kind of ['direct', 'floor', 'gateway'] as const) {
    for (const stream of [false, true]) {
      const server = serverOf(kind, ctx);
      if (server.pid < 0) continue;
      const pool = makeClient(server.origin, 16);
      try {
        const r = await closedLoop({ pool, request: prepareChatRequest({ kind, model: BENCH_MODELS.plain, stream, prompt: 'short' }, ctx.gateway), expect: expectation(stream), concurrency: 16, durationMs: durationMs / 2 });
        countGateway(ctx, kind, r);
        if (r.failed > 0) ctx.log(`  warm-up ${kind}${stream ? ' streaming' : ''}: ${r.failed} failed: ${JSON.stringify(r.errors)}`);
      } finally {
        await pool.close().catch(() => undefined);
      }
    }
  }
  // The gateway's other endpoints and translations are code of their own for V8 to optimise; the
  // floor and direct paths of those scenarios run the code warmed above (the floor: the same proxying).
  const others = scenarios.flatMap((id) => THROUGHPUT[id]?.paths.filter((p) => p.shape.kind === 'gateway' && ((p.shape.api ?? 'chat') !== 'chat' || p.shape.model === BENCH_MODELS.claude)) ?? []);
  const pool = makeClient(ctx.gateway.origin, 16);
  try {
    for (const { shape } of others) {
      const r = await closedLoop({ pool, request: prepareRequest(shape, ctx.gateway), expect: expectationFor(shape), concurrency: 16, durationMs: durationMs / 4 });
      countGateway(ctx, 'gateway', r);
      if (r.failed > 0) ctx.log(`  warm-up gateway ${shape.api ?? 'chat'} ${shape.model}${shape.stream ? ' streaming' : ''}: ${r.failed} failed: ${JSON.stringify(r.errors)}`);
    }
  } finally {
    await pool.close().catch(() => undefined);
  }
  await drainTelemetry(ctx);
}

/** Right after a gateway round: what metering still had to store, and how long it took to store it. */
async function meteringCatchUp(ctx: BenchContext): Promise<{ backlogAtEnd: number; catchUpS: number }> {
  const expected = ctx.recordsBaseline + ctx.gatewayOk;
  const t0 = performance.now();
  const backlogAtEnd = Math.max(0, expected - (await ctx.metering.count()));
  await drainTelemetry(ctx);
  return { backlogAtEnd, catchUpS: (performance.now() - t0) / 1000 };
}

/** After gateway load, wait until metering has caught up, so its work does not bleed into the next path's round. */
async function drainTelemetry(ctx: BenchContext): Promise<void> {
  await ctx.metering.waitFor(ctx.recordsBaseline + ctx.gatewayOk, 20_000);
}

async function measureRound(ctx: BenchContext, pool: LoadClient, spec: PathSpec, concurrency: number, durationMs: number, round: number, errors: Record<string, number>): Promise<RoundResult> {
  const server = serverFor(spec.shape, ctx);
  const request = prepareRequest(spec.shape, ctx.gateway);
  const cpuBefore = cpuSeconds(server.pid) ?? Number.NaN;
  const busyBefore = cpuTimes();
  const t0 = performance.now();
  const loop: LoopResult = await closedLoop({ pool, request, expect: expectationFor(spec.shape), concurrency, durationMs });
  const wallS = (performance.now() - t0) / 1000;
  const cpuUsed = (cpuSeconds(server.pid) ?? Number.NaN) - cpuBefore;
  const busyAfter = cpuTimes();
  const busy = cpuBusyPct(busyBefore, busyAfter);
  const rss = rssBytes(server.pid);
  countGateway(ctx, spec.shape.kind, loop);
  mergeErrors(errors, loop.errors);
  const latency = loop.latency.sorted();
  const ttfb = loop.ttfb.sorted();
  return {
    round,
    ok: loop.ok,
    failed: loop.failed,
    rps: loop.ok / (loop.elapsedMs / 1000),
    p50: percentile(latency, 50),
    p99: percentile(latency, 99),
    ttfbP50: percentile(ttfb, 50),
    ttfbP99: percentile(ttfb, 99),
    cpuUsPerReq: loop.ok > 0 ? (cpuUsed / loop.ok) * 1e6 : Number.NaN,
    cpuPct: (cpuUsed / wallS) * 100,
    rssMb: mb(rss),
    cpuBusy: { ...busyRecord(busy), steal: stealPct(busyBefore, busyAfter) },
  };
}

async function throughput(spec: ThroughputSpec, ctx: BenchContext): Promise<Omit<ScenarioResult, 'usage' | 'gatewayAfter'>> {
  const { options } = ctx;
  const pools = new Map<string, LoadClient>();
  const errors = new Map<string, Record<string, number>>();
  const rounds = new Map<string, RoundResult[]>();
  /** Paths whose every warm-up request failed: they run no rounds (a path the gateway does not serve yet). */
  const unavailable = new Map<string, string>();
  try {
    for (const p of spec.paths) {
      pools.set(p.label, makeClient(serverFor(p.shape, ctx).origin, spec.concurrency));
      errors.set(p.label, {});
      rounds.set(p.label, []);
    }
    // Warm-up: connections open, JIT warm, caches filled, on every path before any round counts.
    for (const p of spec.paths) {
      const warm = await closedLoop({ pool: pools.get(p.label)!, request: prepareRequest(p.shape, ctx.gateway), expect: expectationFor(p.shape), concurrency: spec.concurrency, durationMs: options.warmupMs });
      countGateway(ctx, p.shape.kind, warm);
      if (warm.failed > 0) mergeErrors(errors.get(p.label)!, Object.fromEntries(Object.entries(warm.errors).map(([k, v]) => [`warm-up: ${k}`, v])));
      if (warm.ok === 0 && warm.failed > 0) {
        const answer = await probe(pools.get(p.label)!, prepareRequest(p.shape, ctx.gateway));
        countGateway(ctx, p.shape.kind, { ok: answer.ok ? 1 : 0, failed: answer.ok ? 0 : 1 });
        if (!answer.ok) mergeErrors(errors.get(p.label)!, { [`probe: ${answer.text.slice(0, answer.text.indexOf(':'))}`]: 1 });
        const why = `every warm-up request failed (${Object.keys(warm.errors).join('; ')}); it answers ${answer.text}`;
        unavailable.set(p.label, why);
        ctx.log(`  !!! ${spec.id} ${p.label}: ${why}; its rounds are skipped`);
      }
      if (p.shape.kind === 'gateway') await drainTelemetry(ctx);
    }
    for (let r = 1; r <= options.rounds; r++) {
      for (const p of spec.paths) {
        if (unavailable.has(p.label)) continue;
        const round = await measureRound(ctx, pools.get(p.label)!, p, spec.concurrency, options.durationMs, r, errors.get(p.label)!);
        rounds.get(p.label)!.push(round);
        if (p.shape.kind === 'gateway') round.metering = await meteringCatchUp(ctx);
        ctx.log(
          `  ${spec.id} round ${r}/${options.rounds} ${p.label.padEnd(14)} ${round.rps.toFixed(0).padStart(6)} req/s  p50 ${round.p50.toFixed(3)} ms  p99 ${round.p99.toFixed(3)} ms` +
            (p.shape.stream ? `  ttfb p50 ${round.ttfbP50.toFixed(3)} ms` : '') +
            `  cpu ${round.cpuUsPerReq.toFixed(0)} us/req${round.failed ? `  FAILED ${round.failed}` : ''}` +
            (round.metering ? `  metering: ${round.metering.backlogAtEnd} records behind at the end, all stored ${round.metering.catchUpS.toFixed(1)} s later` : ''),
        );
      }
    }
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close().catch(() => undefined)));
  }
  return {
    id: spec.id,
    title: spec.title,
    concurrency: spec.concurrency,
    stream: spec.stream,
    informational: spec.informational,
    paths: spec.paths.map((p) => {
      const summary = summarise(p.label, p.shape.kind, rounds.get(p.label)!, errors.get(p.label)!);
      const why = unavailable.get(p.label);
      return why === undefined ? summary : { ...summary, unavailable: why, failed: Object.values(summary.errors).reduce((a, n) => a + n, 0) };
    }),
    meteringLag: meteringLagOf([...rounds.values()].flat()),
    notes: [],
  };
}

function meteringLagOf(rounds: RoundResult[]): ScenarioResult['meteringLag'] {
  const lags = rounds.flatMap((r) => (r.metering ? [r.metering] : []));
  if (lags.length === 0) return undefined;
  return { maxBacklog: Math.max(...lags.map((l) => l.backlogAtEnd)), maxCatchUpS: Math.max(...lags.map((l) => l.catchUpS)) };
}

/**
 * 1,000 streams open at once through each path, on the slow upstream (each stream lasts ~3-4 s):
 * every one must complete with all its chunks, usage and [DONE]; the answering process's peak RSS is sampled.
 */
async function heldOpenStreams(ctx: BenchContext): Promise<Omit<ScenarioResult, 'usage' | 'gatewayAfter'>> {
  const streams = ctx.options.streams;
  const { contentChunks } = ctx.slowUpstream;
  const specs: PathSpec[] = (['direct', 'floor', 'gateway'] as const).map((kind) => ({ label: kind, shape: { kind, model: BENCH_MODELS.slow, stream: true, prompt: 'short', slow: true } }));
  const paths: PathSummary[] = [];
  for (const spec of specs) {
    const server = serverOf(spec.shape.kind, ctx, true);
    const pool = makeClient(server.origin, streams);
    const request = prepareChatRequest(spec.shape, ctx.gateway);
    const errors: Record<string, number> = {};
    try {
      const rssBefore = rssBytes(server.pid);
      const cpuBefore = cpuSeconds(server.pid) ?? Number.NaN;
      const busyBefore = cpuTimes();
      const sampler = new RssSampler(server.pid, 50).start();
      let open = 0;
      let maxOpen = 0;
      const latency = new Samples();
      const ttfb = new Samples();
      let ok = 0;
      const heapBefore = spec.shape.kind === 'gateway' ? await gatewayHeapMb(ctx) : Number.NaN;
      const t0 = performance.now();
      const outcomes = await new Promise<Outcome[]>((resolve) => {
        const all: Outcome[] = [];
        for (let i = 0; i < streams; i++) {
          let started = false;
          send(
            pool,
            request,
            { kind: 'sse-full', contentChunks },
            (o) => {
              if (started) open--;
              all.push(o);
              if (all.length === streams) resolve(all);
            },
            () => {
              started = true;
              if (++open > maxOpen) maxOpen = open;
            },
          );
        }
      });
      const wallMs = performance.now() - t0;
      const peak = sampler.stop();
      const cpuUsed = (cpuSeconds(server.pid) ?? Number.NaN) - cpuBefore;
      const busy = cpuBusyPct(busyBefore, cpuTimes());
      for (const o of outcomes) {
        if (o.ok) {
          ok++;
          latency.push(o.totalMs);
          ttfb.push(o.ttfbMs);
        } else errors[o.error ?? 'unknown'] = (errors[o.error ?? 'unknown'] ?? 0) + 1;
      }
      countGateway(ctx, spec.shape.kind, { ok, failed: streams - ok });
      const l = latency.sorted();
      const t = ttfb.sorted();
      const round: RoundResult = {
        round: 1,
        ok,
        failed: streams - ok,
        rps: ok / (wallMs / 1000),
        p50: percentile(l, 50),
        p99: percentile(l, 99),
        ttfbP50: percentile(t, 50),
        ttfbP99: percentile(t, 99),
        cpuUsPerReq: ok > 0 ? (cpuUsed / ok) * 1e6 : Number.NaN,
        cpuPct: (cpuUsed / (wallMs / 1000)) * 100,
        rssMb: mb(peak),
        cpuBusy: busyRecord(busy),
      };
      const summary = summarise(spec.label, spec.shape.kind, [round], errors);
      const heapAfter = spec.shape.kind === 'gateway' ? await gatewayHeapMb(ctx) : Number.NaN;
      summary.extra = { streams, completed: ok, maxOpenAtOnce: maxOpen, peakRssMb: mb(peak), rssBeforeMb: mb(rssBefore), wallMs, rssSamples: sampler.samples, heapUsedBeforeMb: heapBefore, heapUsedAfterMb: heapAfter };
      paths.push(summary);
      ctx.log(
        `  streams-1000 ${spec.label.padEnd(8)} ${ok}/${streams} complete (${maxOpen} open at once) in ${(wallMs / 1000).toFixed(1)} s; peak RSS ${mb(peak).toFixed(0)} MB, ${mb(rssBefore).toFixed(0)} MB before they opened` +
          (Number.isFinite(heapBefore) ? `; V8 heap used ${heapBefore.toFixed(0)} -> ${heapAfter.toFixed(0)} MB` : ''),
      );
      if (spec.shape.kind === 'gateway') await drainTelemetry(ctx);
    } finally {
      await pool.close().catch(() => undefined);
    }
  }
  return {
    id: 'streams-1000',
    title: `${streams} concurrent streams held open by a slow upstream (${contentChunks} chunks, ${ctx.slowUpstream.chunkDelayMs} ms apart); RSS column = peak during the run`,
    concurrency: streams,
    stream: true,
    paths,
    notes: [],
  };
}

/**
 * Slow upstream, concurrency 1: the first event must reach the client on its own, before the
 * upstream sends the second one (`chunkDelayMs` later). Time to first byte is compared with that delay.
 */
async function noBuffering(ctx: BenchContext): Promise<Omit<ScenarioResult, 'usage' | 'gatewayAfter'>> {
  const n = ctx.options.quick ? 1 : 2;
  const delay = ctx.slowUpstream.chunkDelayMs;
  const paths: PathSummary[] = [];
  for (const kind of ['direct', 'floor', 'gateway'] as const) {
    const spec: PathSpec = { label: kind, shape: { kind, model: BENCH_MODELS.slow, stream: true, prompt: 'short', slow: true } };
    const server = serverOf(kind, ctx, true);
    const pool = makeClient(server.origin, 1);
    const errors: Record<string, number> = {};
    const outcomes: Outcome[] = [];
    try {
      // One JSON call first (answered at once, even by the slow upstream), so no timing below includes a TCP connect.
      const warm = await sendOnce(pool, prepareChatRequest({ ...spec.shape, stream: false }, ctx.gateway), { kind: 'json' });
      countGateway(ctx, kind, { ok: warm.ok ? 1 : 0, failed: warm.ok ? 0 : 1 });
      for (let i = 0; i < n; i++) outcomes.push(await sendOnce(pool, prepareChatRequest(spec.shape, ctx.gateway), { kind: 'sse-full', contentChunks: ctx.slowUpstream.contentChunks }));
    } finally {
      await pool.close().catch(() => undefined);
    }
    const good = outcomes.filter((o) => o.ok);
    for (const o of outcomes) if (!o.ok) errors[o.error ?? 'unknown'] = (errors[o.error ?? 'unknown'] ?? 0) + 1;
    countGateway(ctx, kind, { ok: good.length, failed: outcomes.length - good.length });
    const ttfbs = good.map((o) => o.ttfbMs);
    const worstTtfb = Math.max(...ttfbs);
    const worstEvents = Math.max(...good.map((o) => o.firstChunkEvents));
    const gap = median(good.map((o) => o.secondChunkMs - o.ttfbMs));
    const round: RoundResult = {
      round: 1,
      ok: good.length,
      failed: outcomes.length - good.length,
      rps: Number.NaN,
      p50: median(good.map((o) => o.totalMs)),
      p99: Math.max(...good.map((o) => o.totalMs)),
      ttfbP50: median(ttfbs),
      ttfbP99: worstTtfb,
      cpuUsPerReq: Number.NaN,
      cpuPct: Number.NaN,
      rssMb: mb(rssBytes(server.pid)),
      cpuBusy: {},
    };
    const summary = summarise(kind, kind, [round], errors);
    const unbuffered = good.length === outcomes.length && good.length > 0 && worstTtfb < delay && worstEvents === 1;
    summary.extra = { requests: outcomes.length, chunkDelayMs: delay, worstTtfbMs: worstTtfb, eventsInFirstChunk: worstEvents, firstToSecondChunkMs: gap, unbuffered };
    paths.push(summary);
    ctx.log(`  no-buffering ${kind.padEnd(8)} first chunk after ${worstTtfb.toFixed(2)} ms (${worstEvents} event), second ${gap.toFixed(0)} ms later; upstream spaces events ${delay} ms: ${unbuffered ? 'unbuffered' : 'BUFFERED?'}`);
  }
  if (paths.some((p) => p.kind === 'gateway')) await drainTelemetry(ctx);
  return {
    id: 'no-buffering',
    title: `no buffering: slow upstream (events ${delay} ms apart), concurrency 1; TTFB must be < ${delay} ms with 1 event in the first chunk`,
    concurrency: 1,
    stream: true,
    paths,
    notes: [],
  };
}
