import { parseArgs } from 'node:util';
import { DEFAULT_METERING_SCENARIOS, METERING_SCENARIO_IDS, type MeteringScenarioId } from './metering-figures.js';
import { SCENARIO_IDS, type ScenarioId } from './scenarios.js';

export type BenchMode = 'bench' | 'soak' | 'profile';

export interface BenchOptions {
  mode: BenchMode;
  quick: boolean;
  rounds: number;
  /** Bench: measuring time of one path in one round. Soak: the whole run. Profile: each profiled path. */
  durationMs: number;
  warmupMs: number;
  /** Mixed load on every path before the first scenario (JIT warm-up). */
  globalWarmupMs: number;
  scenarios: ScenarioId[];
  /** Issue 17's metering figures, each from its own script after the scenarios (metering-figures.ts). */
  meteringScenarios: MeteringScenarioId[];
  /** Streams held open at once in streams-1000. */
  streams: number;
  /** The slow upstream's gap between two SSE events. */
  slowChunkDelayMs: number;
  /** Soak: concurrent callers (a quarter of them stream). */
  soakConcurrency: number;
  /** Extra Node options for the gateway process, for experiments (e.g. --max-semi-space-size=8). */
  gatewayNodeArgs: string[];
  /** --profile: profile the streamed chat completion (stream-c64's request) instead of the JSON one. */
  profileStream: boolean;
  /** --profile: profile this throughput scenario's floor and gateway requests instead of the plain chat one. */
  profileScenario?: ScenarioId;
  /** --profile: a second gateway window, in the same gateway process, with this model (a BENCH_MODELS name). */
  profileModel: string | undefined;
}

export const USAGE = `npm run bench -- [options]
  (default)            every scenario, paths interleaved in rounds; one table, JSON in results/
  --quick              short rounds (a smoke run of ~1-2 minutes)
  --rounds N           rounds per scenario (default 5, quick 2)
  --duration S         seconds per path per round (default 4, quick 1); --soak: the whole run; --profile: each profiled path
  --warmup S           seconds of warm-up per path per scenario (default 1, quick 0.3), after 10 s (quick 2 s)
                       of mixed load on every path before the first scenario
  --scenarios a,b      any of ${SCENARIO_IDS.join(', ')},
                       ${METERING_SCENARIO_IDS.join(', ')} (default: all but report-scale, which loads 10 million records first, ~15 min)
  --streams N          streams held open in streams-1000 (default 1000)
  --soak               steady load on the gateway (default 600 s, quick 60 s), RSS and event-loop delay every 10 s
  --concurrency N      soak callers (default 16, a quarter of them streaming)
  --profile            floor then gateway (and usage-metering) under --cpu-prof at non-streaming c64 (default 20 s each):
                       busy us per request, gateway/floor ratio, top self time
  --profile-stream     with --profile: the streamed request of stream-c64 instead of the JSON one
  --profile-scenario X with --profile: the floor and gateway requests of throughput scenario X (e.g. embeddings-c64,
                       openai-to-anthropic-stream-c64) instead of the plain chat one
  --profile-model M    with --profile: then the gateway again with model M (e.g. bench-gpt-policy), same process:
                       busy us per request of each model, and M's extra
  --gateway-node-args "..."  extra Node options for the gateway process only (experiments, e.g. "--max-semi-space-size=8")
  --help`;

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got ${JSON.stringify(value)})`);
  return n;
}

export function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      soak: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'profile-stream': { type: 'boolean', default: false },
      'profile-scenario': { type: 'string' },
      'profile-model': { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      scenarios: { type: 'string' },
      streams: { type: 'string' },
      concurrency: { type: 'string' },
      'chunk-delay-ms': { type: 'string' },
      'gateway-node-args': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (values.soak && values.profile) throw new Error('--soak and --profile are separate runs: choose one');
  const mode: BenchMode = values.soak ? 'soak' : values.profile ? 'profile' : 'bench';
  const quick = values.quick ?? false;
  const defaultDuration = mode === 'soak' ? (quick ? 60 : 600) : mode === 'profile' ? (quick ? 5 : 20) : quick ? 1 : 4;
  let scenarios: ScenarioId[] = [...SCENARIO_IDS];
  let meteringScenarios: MeteringScenarioId[] = mode === 'bench' ? [...DEFAULT_METERING_SCENARIOS] : [];
  if (values.scenarios) {
    const asked = values.scenarios.split(',').map((s) => s.trim()).filter(Boolean);
    const known: readonly string[] = [...SCENARIO_IDS, ...METERING_SCENARIO_IDS];
    const unknown = asked.filter((s) => !known.includes(s));
    if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
    scenarios = SCENARIO_IDS.filter((s) => asked.includes(s));
    meteringScenarios = METERING_SCENARIO_IDS.filter((s) => asked.includes(s));
  }
  const profileScenario = values['profile-scenario'];
  if (profileScenario !== undefined && !(SCENARIO_IDS as readonly string[]).includes(profileScenario)) throw new Error(`unknown --profile-scenario ${profileScenario}; known: ${SCENARIO_IDS.join(', ')}`);
  return {
    mode,
    quick,
    rounds: Math.round(positive('rounds', values.rounds, quick ? 2 : 5)),
    durationMs: positive('duration', values.duration, defaultDuration) * 1000,
    warmupMs: positive('warmup', values.warmup, quick ? 0.3 : 1) * 1000,
    globalWarmupMs: quick ? 2000 : 10_000,
    scenarios,
    meteringScenarios,
    streams: Math.round(positive('streams', values.streams, 1000)),
    slowChunkDelayMs: Math.round(positive('chunk-delay-ms', values['chunk-delay-ms'], 150)),
    soakConcurrency: Math.round(positive('concurrency', values.concurrency, 16)),
    gatewayNodeArgs: (values['gateway-node-args'] ?? '').split(/\s+/).filter(Boolean),
    profileStream: values['profile-stream'] ?? false,
    ...(profileScenario !== undefined ? { profileScenario: profileScenario as ScenarioId } : {}),
    profileModel: values['profile-model'],
  };
}
