import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * What Linux says about a process and the CPUs (/proc): CPU time, resident memory, per-CPU busy time.
 * Read between rounds and by a sampler during the long-stream scenario, never per request.
 */

function readClockTicks(): number {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(out.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
}

export const CLOCK_TICKS = readClockTicks();

/**
 * The fields of /proc/<pid>/stat after the command name, from state (field 3 in proc(5)) on, so
 * field N is at index N - 3; undefined when the process is gone.
 */
export function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds the process has used so far; undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const fields = statFields(pid);
  // utime is field 14 and stime field 15.
  return fields ? (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS : undefined;
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The share of all CPUs' time the hypervisor gave to other guests between two snapshots, % (it
 * counts as busy: a virtual machine's CPU that is stolen from runs nothing of ours).
 */
export function stealPct(before: CpuTimes, after: CpuTimes): number {
  let steal = 0;
  let total = 0;
  for (const [cpu, a] of after) {
    const b = before.get(cpu);
    if (!b) continue;
    steal += a.steal - b.steal;
    total += a.total - b.total;
  }
  return total > 0 ? (steal / total) * 100 : Number.NaN;
}

/** Resident memory in bytes (VmRSS). */
export function rssBytes(pid: number): number | undefined {
  return statusField(pid, 'VmRSS');
}

/** The process's lifetime peak of resident memory in bytes (VmHWM). */
export function peakRssBytes(pid: number): number | undefined {
  return statusField(pid, 'VmHWM');
}

export type CpuTimes = Map<number, { busy: number; total: number; steal: number }>;

/** Per-CPU jiffies from /proc/stat. */
export function cpuTimes(): CpuTimes {
  const times: CpuTimes = new Map();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest is already in user).
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    times.set(Number(m[1]), { busy: total - idle, total, steal: v[7] ?? 0 });
  }
  return times;
}

/** Busy % of each CPU between two snapshots. */
export function cpuBusyPct(before: CpuTimes, after: CpuTimes): Map<number, number> {
  const out = new Map<number, number>();
  for (const [cpu, a] of after) {
    const b = before.get(cpu);
    if (!b || a.total === b.total) continue;
    out.set(cpu, ((a.busy - b.busy) / (a.total - b.total)) * 100);
  }
  return out;
}

/** Samples a process's RSS on a timer and keeps the peak (VmHWM cannot be reset without privileges we should not need). */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  peak = 0;
  samples = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 50,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return this.peak;
  }

  private sample(): void {
    const rss = rssBytes(this.pid);
    if (rss !== undefined) {
      this.samples++;
      if (rss > this.peak) this.peak = rss;
    }
  }
}
