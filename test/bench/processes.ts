import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { statFields } from './proc-stats.js';

/**
 * The benchmark's own processes (upstreams, floor proxy), where each runs (taskset), and
 * stopping every one of them whatever way the benchmark ends.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root: test/bench in sources, dist/test/bench when built. */
export const ROOT = path.resolve(here, here.includes(`${path.sep}dist${path.sep}test${path.sep}`) ? '../../..' : '../..');

export interface CpuPlan {
  /** False on a one-CPU machine or without taskset: nothing is pinned. */
  pinned: boolean;
  loadGenerator?: string;
  upstream?: string;
  floor?: string;
  gateway?: string;
  /** credential-vault, model-registry, usage-metering, evaluator. */
  otherServices?: string;
  /** One line per placement, for the output. */
  description: string[];
}

/** The CPUs this process may run on (its affinity list), e.g. [0, 1]. */
export function allowedCpus(): number[] {
  const out = spawnSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' });
  const list = /:\s*([\d,\s-]+)$/.exec(out.stdout?.trim() ?? '')?.[1];
  if (out.status !== 0 || !list) return [];
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const [a, b] = part.trim().split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) continue;
    for (let c = a; c <= (b ?? a); c++) cpus.push(c);
  }
  return cpus;
}

/**
 * Gives the gateway (and, measured at other times, the floor) a CPU of its own; the load
 * generator, the upstreams and the other services share what is left. Postgres and NATS are the
 * machine's own services and stay where the OS puts them.
 */
export function planCpus(cpus: number[]): CpuPlan {
  if (cpus.length < 2) return { pinned: false, description: [`only ${cpus.length || 'an unknown number of'} CPU(s) allowed: nothing pinned, every process shares the machine`] };
  const c = cpus.map(String);
  let plan: Omit<CpuPlan, 'description' | 'pinned'>;
  if (cpus.length === 2) plan = { loadGenerator: c[0], upstream: c[0], otherServices: c[0], floor: c[1], gateway: c[1] };
  else if (cpus.length === 3) plan = { loadGenerator: c[0], upstream: c[1], otherServices: `${c[0]},${c[1]}`, floor: c[2], gateway: c[2] };
  else if (cpus.length === 4) plan = { loadGenerator: c[0], upstream: c[1], otherServices: `${c[0]},${c[1]}`, floor: c[2], gateway: c[3] };
  else plan = { loadGenerator: c[0], upstream: c[1], floor: c[2], gateway: c[3], otherServices: c.slice(4).join(',') };
  const description = [
    `${cpus.length} CPUs allowed (${c.join(',')}); pinned with taskset:`,
    `  CPU ${plan.loadGenerator}: load generator (this process)`,
    `  CPU ${plan.upstream}: upstreams (fast and slow)`,
    `  CPU ${plan.otherServices}: credential-vault, model-registry, usage-metering, evaluator (usage-metering lowers its own priority: METERING_NICE, default 10)`,
    `  CPU ${plan.floor}: floor proxy`,
    `  CPU ${plan.gateway}: gateway`,
    `  CPU ${plan.otherServices}: the machine's Postgres and NATS too, for the run (their affinity is given back at its end)`,
  ];
  if (cpus.length === 2) {
    description.push('  With 2 CPUs the load generator, the upstream and the other services share CPU 0; floor and gateway are measured one after the other on CPU 1.');
    description.push('  The direct path never leaves CPU 0, so floor and gateway latencies include two cross-CPU hand-offs that direct does not pay (see floor-direct).');
  }
  return { ...plan, pinned: true, description };
}

/** Pins every thread of this process (main, libuv pool, V8 helpers) to the CPUs. */
export function pinSelf(cpus: string): void {
  const out = spawnSync('taskset', ['-a', '-cp', cpus, String(process.pid)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`taskset could not pin the load generator: ${out.stderr}`);
}

export interface StartedProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The first line it printed on stdout (its URL). */
  firstLine: string;
}

/** Every child the benchmark started; `stopAll` (async) and `killAllNow` (sync, for process exit) end them. */
export class BenchProcesses {
  private readonly children: StartedProcess[] = [];

  /** Runs `node <script> <args>` (pinned when `cpus` is given) and waits for its first stdout line. */
  async startNode(name: string, script: string, args: string[], cpus: string | undefined, timeoutMs = 15_000, extraNodeArgs: string[] = []): Promise<StartedProcess> {
    const nodeArgs = [...extraNodeArgs, path.join(ROOT, script), ...args];
    const [cmd, cmdArgs] = cpus ? ['taskset', ['-c', cpus, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
    // stdin stays a pipe: a child of ours that watches it exits when this process dies, even by SIGKILL.
    const child = spawn(cmd, cmdArgs, { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const started: StartedProcess = { name, child, pid: child.pid ?? -1, firstLine: '' };
    this.children.push(started);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 10_000) stderr += d.toString();
    });
    started.firstLine = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${name} printed nothing within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
      const onData = (d: Buffer): void => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl === -1) return;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(out.slice(0, nl).trim());
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${stderr}`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return started;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once all have exited. */
  async stopAll(graceMs = 5000): Promise<void> {
    const running = this.children.splice(0);
    await Promise.all(
      running.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }

  /** For `process.on('exit')`, where nothing asynchronous runs any more. */
  killAllNow(): void {
    for (const { child } of this.children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }
}

/** A process of the machine's own services that the benchmark pinned, with the affinity to give back. */
interface Pinned {
  name: string;
  pid: number;
  mask: string;
}

function affinityMask(pid: number): string | undefined {
  const out = spawnSync('taskset', ['-p', String(pid)], { encoding: 'utf8' });
  return out.status === 0 ? /:\s*([0-9a-f]+)\s*$/i.exec(out.stdout.trim())?.[1] : undefined;
}

function childrenOf(ppid: number): number[] {
  const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(ppid)], { encoding: 'utf8' });
  return out.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

function parentOf(pid: number): number | undefined {
  const ppid = statFields(pid)?.[1]; // field 4
  return ppid === undefined ? undefined : Number(ppid);
}

/**
 * Puts the machine's Postgres (the postmaster of `backendPid` and its processes; new backends
 * inherit it) and NATS server on `cpus`, the CPU of the product's other services, so that the
 * gateway's CPU is the gateway's alone, as the floor's is. Returns what gives every process its
 * affinity back; the benchmark calls it on every way out. Services it cannot find stay as they are.
 */
export function pinMachineServices(cpus: string, backendPid: number | undefined, log: (line: string) => void): () => void {
  const pinned: Pinned[] = [];
  const pin = (name: string, pid: number): void => {
    const mask = affinityMask(pid);
    if (!mask) return;
    if (spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' }).status === 0) pinned.push({ name, pid, mask });
  };
  const postmaster = backendPid === undefined ? undefined : parentOf(backendPid);
  if (postmaster && postmaster > 1) {
    pin('postgres', postmaster);
    for (const child of childrenOf(postmaster)) pin('postgres', child);
  } else log('  Postgres is not a local process this benchmark can see: not pinned');
  const nats = spawnSync('pgrep', ['-x', 'nats-server'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map(Number)
    .filter((n) => n > 0);
  if (nats.length === 1) pin('nats-server', nats[0]!);
  else log(`  ${nats.length === 0 ? 'no' : 'more than one'} nats-server process: NATS not pinned`);
  if (pinned.length > 0) log(`  CPU ${cpus}: the machine's ${[...new Set(pinned.map((p) => p.name))].join(' and ')} (${pinned.length} processes), pinned for this run and given back at its end`);
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    // Backends started during the run inherited the pinned affinity: give the postmaster's children theirs back too.
    const original = pinned.find((p) => p.pid === postmaster)?.mask;
    const extra = original && postmaster ? childrenOf(postmaster).filter((pid) => !pinned.some((p) => p.pid === pid)).map((pid) => ({ name: 'postgres', pid, mask: original })) : [];
    for (const p of [...pinned, ...extra]) spawnSync('taskset', ['-a', '-p', p.mask, String(p.pid)], { encoding: 'utf8' });
  };
}
