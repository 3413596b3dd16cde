import { readFile } from 'node:fs/promises';

/**
 * Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and ranks functions by self time, only
 * over the samples taken inside the load window (the profile also holds start-up and shut-down).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  area: string;
  selfMs: number;
  /** Of the busy (non-idle) time in the window. */
  pct: number;
}

export interface ProfileSummary {
  windowMs: number;
  busyMs: number;
  idleMs: number;
  /** False when no sample fell into the window (clocks differ) and the whole profile was used. */
  windowed: boolean;
  top: SelfTime[];
  byArea: { area: string; selfMs: number; pct: number }[];
}

function areaOf(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const nm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nm) return nm[1]!;
  const own = /\/dist\/((?:apps|libs)\/[^/]+)\//.exec(url);
  if (own) return own[1]!;
  return url;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) return url.slice(nm + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

interface ProfileWindow {
  startUs: number;
  endUs: number;
}

/**
 * `window` in microseconds of the monotonic clock (process.hrtime), which V8's profile timestamps
 * also use on Linux; several spans (one load's slices, alternating with another's) count as one.
 */
export async function summariseProfile(file: string, windowOrSpans?: ProfileWindow | readonly ProfileWindow[], top = 30): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const spans = windowOrSpans === undefined ? undefined : 'startUs' in windowOrSpans ? [windowOrSpans] : windowOrSpans;
  const window = spans && spans.length > 0 ? spans : undefined;
  const outside = (at: number): boolean => !window!.some((w) => at >= w.startUs && at <= w.endUs);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  let inWindow = 0;
  const take = (useWindow: boolean): void => {
    selfUs.clear();
    t = profile.startTime;
    inWindow = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i] ?? 0;
      if (useWindow && window && outside(t)) continue;
      // A sample stands for the time until the next one.
      const dur = profile.timeDeltas[i + 1] ?? 0;
      const id = profile.samples[i]!;
      selfUs.set(id, (selfUs.get(id) ?? 0) + dur);
      inWindow++;
    }
  };
  take(true);
  const windowed = window !== undefined && inWindow > 0;
  if (!windowed) take(false);

  const byFn = new Map<string, SelfTime>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const node = nodes.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}|${where}`;
    const entry = byFn.get(key) ?? { name, where, area: areaOf(url, name), selfMs: 0, pct: 0 };
    entry.selfMs += us / 1000;
    byFn.set(key, entry);
  }
  const ranked = [...byFn.values()].sort((a, b) => b.selfMs - a.selfMs);
  for (const e of ranked) e.pct = busyUs > 0 ? (e.selfMs * 1000 * 100) / busyUs : 0;
  const areas = new Map<string, number>();
  for (const e of ranked) areas.set(e.area, (areas.get(e.area) ?? 0) + e.selfMs);
  return {
    windowMs: window && windowed ? window.reduce((sum, w) => sum + (w.endUs - w.startUs), 0) / 1000 : (profile.endTime - profile.startTime) / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    windowed,
    top: ranked.slice(0, top),
    byArea: [...areas]
      .map(([area, selfMs]) => ({ area, selfMs, pct: busyUs > 0 ? (selfMs * 1000 * 100) / busyUs : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, 20),
  };
}

export function profileText(s: ProfileSummary): string {
  const lines = [
    `profile window ${(s.windowMs / 1000).toFixed(1)} s${s.windowed ? '' : ' (whole profile: no sample matched the load window)'}: busy ${(s.busyMs / 1000).toFixed(2)} s, idle ${(s.idleMs / 1000).toFixed(2)} s`,
    '',
    'top self time (% of busy time):',
    ...s.top.map((e) => `  ${e.pct.toFixed(1).padStart(5)}%  ${e.selfMs.toFixed(0).padStart(7)} ms  ${e.name}  ${e.where}`),
    '',
    'self time by area:',
    ...s.byArea.map((a) => `  ${a.pct.toFixed(1).padStart(5)}%  ${a.selfMs.toFixed(0).padStart(7)} ms  ${a.area}`),
  ];
  return lines.join('\n');
}
