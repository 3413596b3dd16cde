import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './processes.js';
import type { TargetCheck } from './report.js';

/**
 * Issue 17's figures in `npm run bench`: metering's intake (spans priced and stored per second
 * through the machine's NATS and Postgres, target 20,000/s) and report queries over 10 million
 * usage records (target < 1 s each). Each runs its own script (README, "Metering at scale") in a
 * child process, on its own database, without the product the other scenarios start; the bench
 * reads the script's closing `BENCH-RESULT {json}` line and judges it against the target.
 */
export const METERING_SCENARIO_IDS = ['metering-intake', 'report-scale'] as const;
export type MeteringScenarioId = (typeof METERING_SCENARIO_IDS)[number];
/** Run when no --scenarios are named. report-scale loads 10 million records first (~15 min): only when asked. */
export const DEFAULT_METERING_SCENARIOS: MeteringScenarioId[] = ['metering-intake'];

type Result = Record<string, number | boolean>;

const SCRIPTS: Record<MeteringScenarioId, { script: string; args: string[]; name: string; judge(r: Result): Omit<TargetCheck, 'name'> }> = {
  'metering-intake': {
    script: 'metering-throughput.js',
    args: ['--spans', '200000'],
    name: 'metering intake (issue 17): spans priced and stored per second end to end, NATS -> Postgres, >= 20,000/s',
    judge: (r) => ({
      measured: `${Number(r.spansPerSecond).toLocaleString('en')} spans/s (${Number(r.spans).toLocaleString('en')} spans in ${Number(r.seconds).toFixed(1)} s, rollups ${r.rollups ? 'on' : 'off'})`,
      pass: Number(r.spansPerSecond) >= 20_000,
    }),
  },
  'report-scale': {
    script: 'report-scale.js',
    args: ['--records', '10000000'],
    name: 'cost reports over 10 million usage records (issue 17): every report shape < 1 s',
    judge: (r) => ({
      measured: `slowest of ${r.shapes} shapes ${r.slowestMs} ms over ${Number(r.records).toLocaleString('en')} records (the same 30-day report summed from the records: ${r.rawMs} ms)`,
      pass: Number(r.slowestMs) < 1000,
    }),
  },
};

/** `cpus`: a taskset list for the script (the bench pins itself to one CPU; the script gets the machine). */
export async function runMeteringScenario(id: MeteringScenarioId, cpus: string | undefined, log: (line: string) => void): Promise<TargetCheck> {
  const { script, args, name, judge } = SCRIPTS[id];
  const file = path.join(ROOT, 'dist/test/bench', script);
  const lines: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const [cmd, cmdArgs] = cpus ? ['taskset', ['-c', cpus, process.execPath, file, ...args]] : [process.execPath, [file, ...args]];
    const child = spawn(cmd, cmdArgs, { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let rest = '';
    const onData = (d: Buffer) => {
      const parts = (rest + d.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (!line.startsWith('BENCH-RESULT ')) log(`  [${id}] ${line}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('close', (c) => {
      if (rest) lines.push(rest);
      resolve(c);
    });
  });
  const result = lines.find((l) => l.startsWith('BENCH-RESULT '));
  if (code !== 0 || !result) return { name, measured: `${script} ${code === 0 ? 'printed no result' : `exited with ${code}`}: ${lines.slice(-3).join(' / ')}`, pass: false };
  return { name, ...judge(JSON.parse(result.slice('BENCH-RESULT '.length)) as Result) };
}
