import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './processes.js';
import { usageMismatch, type PathSummary, type ScenarioResult, type ScenarioUsage } from './scenarios.js';
import { median } from './stats.js';

/** The table, the ratios against the floor, the issue's targets with PASS/FAIL, and the JSON file. */

const THROUGHPUT_SCENARIOS = new Set([
  'json-c1',
  'json-c64',
  'stream-c1',
  'stream-c64',
  'limit-100k',
  'limit-tight',
  'embeddings-c64',
  'embeddings-float-c64',
  'anthropic-to-openai-c64',
  'anthropic-to-openai-stream-c64',
  'openai-to-anthropic-c64',
  'openai-to-anthropic-stream-c64',
  'policy-c64',
]);

export interface TargetCheck {
  name: string;
  measured: string;
  pass: boolean | undefined;
}

function fmtMs(v: number): string {
  if (!Number.isFinite(v)) return '-';
  return Math.abs(v) < 10 ? v.toFixed(3) : Math.abs(v) < 1000 ? v.toFixed(1) : v.toFixed(0);
}

function fmtSigned(v: number): string {
  if (!Number.isFinite(v)) return '-';
  return `${v >= 0 ? '+' : ''}${fmtMs(v)}`;
}

function fmtRatio(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : '-';
}

function fmtInt(v: number): string {
  return Number.isFinite(v) ? Math.round(v).toString() : '-';
}

function fmtPct(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(0)}%` : '-';
}

function table(header: string[], rows: string[][], rightAlign: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The median across rounds of gateway / floor in the same round (a round runs the paths seconds
 * apart, so each ratio compares them under the same load on the rest of the host). The ratio of
 * the two paths' medians can pair a floor round on a quiet host with a gateway round on a busy one.
 */
export function pairedRatio(a: PathSummary, b: PathSummary, figure: (r: PathSummary['rounds'][number]) => number): number {
  const ratios: number[] = [];
  for (const ra of a.rounds) {
    const rb = b.rounds.find((r) => r.round === ra.round);
    if (rb && figure(rb) > 0) ratios.push(figure(ra) / figure(rb));
  }
  return ratios.length > 0 ? median(ratios) : Number.NaN;
}

function path_(s: ScenarioResult, label: string): PathSummary | undefined {
  return s.paths.find((p) => p.label === label);
}

export function resultsTable(scenarios: ScenarioResult[]): string {
  const header = ['scenario', 'path', 'req/s', 'spread', 'p50 ms', 'p99 ms', 'TTFB p50', 'TTFB p99', 'CPU us/req', 'CPU %', 'RSS MB', 'CPUs busy', 'ok', 'failed'];
  const rows: string[][] = [];
  for (const s of scenarios) {
    for (const p of s.paths) {
      rows.push([
        s.id,
        p.label,
        fmtInt(p.rps),
        fmtPct(p.rpsSpreadPct),
        fmtMs(p.p50),
        fmtMs(p.p99),
        s.stream ? fmtMs(p.ttfbP50) : '-',
        s.stream ? fmtMs(p.ttfbP99) : '-',
        fmtInt(p.cpuUsPerReq),
        fmtPct(p.cpuPct),
        Number.isFinite(p.rssMb) ? p.rssMb.toFixed(0) : '-',
        Object.entries(p.cpuBusy)
          .map(([c, v]) => `${c === 'steal' ? 'st' : c.replace('cpu', '')}:${v.toFixed(0)}`)
          .join(' ') || '-',
        String(p.ok),
        String(p.failed),
      ]);
    }
  }
  return table(header, rows, [false, false, true, true, true, true, true, true, true, true, true, false, true, true]);
}

export function comparisonTable(scenarios: ScenarioResult[]): string {
  const header = ['scenario', 'gw/floor req/s', 'same round', 'floor/direct req/s', 'added p50 (gw-direct)', 'floor-direct p50', 'added TTFB p50', 'gw CPU/floor CPU', 'same round', 'gw RSS / heap MB after', 'usage records stored/sent', 'metering behind at round end'];
  const rows: string[][] = [];
  for (const s of scenarios) {
    const usage = usageText(s.usage);
    const lag = s.meteringLag ? `<= ${s.meteringLag.maxBacklog} records, stored <= ${s.meteringLag.maxCatchUpS.toFixed(1)} s later` : '-';
    const memory = `${fmtInt(s.gatewayAfter.rssMb)} / ${fmtInt(s.gatewayAfter.heapUsedMb)}`;
    if (!THROUGHPUT_SCENARIOS.has(s.id)) {
      rows.push([s.id, '-', '-', '-', '-', '-', '-', '-', '-', memory, usage, lag]);
      continue;
    }
    const d = path_(s, 'direct');
    const f = path_(s, 'floor');
    const g = path_(s, 'gateway');
    rows.push([
      s.id,
      g && f && Number.isFinite(g.rps / f.rps) ? (g.rps / f.rps).toFixed(2) : '-',
      g && f ? fmtRatio(pairedRatio(g, f, (r) => r.rps)) : '-',
      f && d && Number.isFinite(f.rps / d.rps) ? (f.rps / d.rps).toFixed(2) : '-',
      g && d ? fmtSigned(g.p50 - d.p50) : '-',
      f && d ? fmtSigned(f.p50 - d.p50) : '-',
      s.stream && g && d ? fmtSigned(g.ttfbP50 - d.ttfbP50) : '-',
      g && f && Number.isFinite(g.cpuUsPerReq / f.cpuUsPerReq) ? (g.cpuUsPerReq / f.cpuUsPerReq).toFixed(2) : '-',
      g && f ? fmtRatio(pairedRatio(g, f, (r) => r.cpuUsPerReq)) : '-',
      memory,
      usage,
      lag,
    ]);
    for (const extra of s.paths.filter((p) => p.kind === 'gateway' && p.label !== 'gateway')) {
      if (!g) continue;
      rows.push([`  ${extra.label}`, '-', '-', '-', `${fmtSigned(extra.p50 - g.p50)} vs gateway`, '-', '-', Number.isFinite(extra.cpuUsPerReq / g.cpuUsPerReq) ? `${(extra.cpuUsPerReq / g.cpuUsPerReq).toFixed(2)} vs gw` : '-', '-', '', '', '']);
    }
  }
  return table(header, rows, [false, true, true, true, true, true, true, true, true, true, false, false]);
}

/** `stored/sent`, the failed requests' records when there are any, and MISMATCH when they do not add up. */
export function usageText(u: ScenarioUsage): string {
  const failed = u.failed > 0 || u.unreported > 0 ? ` (+${u.unreported} usage-missing for ${u.failed} failed)` : '';
  return `${u.stored}/${u.sent}${failed}${usageMismatch(u) ? '  <-- MISMATCH' : ''}`;
}

/** A gateway path that ran no rounds fails its target with what it answered, rather than reading n/a. */
function unavailableCheck(name: string, g: PathSummary | undefined): TargetCheck | undefined {
  return g?.unavailable === undefined ? undefined : { name, measured: `the gateway path failed: ${g.unavailable}`, pass: false };
}

/** Gateway throughput at least `share` of the floor's, judged round by round (see pairedRatio); the ratio of the medians is shown beside it. */
function throughputCheck(s: ScenarioResult, name: string, share: number): TargetCheck {
  const g = path_(s, 'gateway');
  const f = path_(s, 'floor');
  const failed = unavailableCheck(name, g);
  if (failed) return failed;
  const ratio = g && f ? pairedRatio(g, f, (r) => r.rps) : Number.NaN;
  const ofMedians = g && f ? g.rps / f.rps : Number.NaN;
  // When the rest of the machine slows the gateway's callers, CPU per request shows what a CPU of its own would give.
  const cpuRatio = g && f ? 1 / pairedRatio(g, f, (r) => r.cpuUsPerReq) : Number.NaN;
  return {
    name,
    measured:
      `${(ratio * 100).toFixed(1)}% (median of the rounds' gateway/floor; ratio of the medians ${(ofMedians * 100).toFixed(1)}%, ${fmtInt(g?.rps ?? NaN)} vs ${fmtInt(f?.rps ?? NaN)} req/s); ` +
      `by CPU per request ${fmtInt(g?.cpuUsPerReq ?? NaN)} vs ${fmtInt(f?.cpuUsPerReq ?? NaN)} us = ${(cpuRatio * 100).toFixed(0)}% if CPU-bound`,
    pass: Number.isFinite(ratio) ? ratio >= share : undefined,
  };
}

/** Gateway CPU per request at most `factor` times the floor's, judged round by round. */
function cpuCheck(s: ScenarioResult, name: string, factor: number): TargetCheck {
  const g = path_(s, 'gateway');
  const f = path_(s, 'floor');
  const failed = unavailableCheck(name, g);
  if (failed) return failed;
  const ratio = g && f ? pairedRatio(g, f, (r) => r.cpuUsPerReq) : Number.NaN;
  const ofMedians = g && f ? g.cpuUsPerReq / f.cpuUsPerReq : Number.NaN;
  return {
    name,
    measured:
      `${fmtRatio(ratio)}x (median of the rounds' gateway/floor CPU us per request; ratio of the medians ${fmtRatio(ofMedians)}x, ${fmtInt(g?.cpuUsPerReq ?? NaN)} vs ${fmtInt(f?.cpuUsPerReq ?? NaN)} us); ` +
      `throughput ${fmtInt(g?.rps ?? NaN)} vs ${fmtInt(f?.rps ?? NaN)} req/s`,
    pass: Number.isFinite(ratio) ? ratio <= factor : undefined,
  };
}

export function evaluateTargets(scenarios: ScenarioResult[], totals: ScenarioUsage): TargetCheck[] {
  const byId = new Map(scenarios.map((s) => [s.id, s]));
  const checks: TargetCheck[] = [];
  const c64 = byId.get('json-c64');
  if (c64) checks.push(throughputCheck(c64, 'non-streaming c64: gateway throughput >= 75% of the floor', 0.75));
  // Issue 12 raised streaming c64 to the non-streaming target.
  const s64 = byId.get('stream-c64');
  if (s64) checks.push(throughputCheck(s64, "streaming c64: gateway throughput at least 75% of the floor's throughput", 0.75));
  const c1 = byId.get('json-c1');
  if (c1) {
    const g = path_(c1, 'gateway');
    const d = path_(c1, 'direct');
    const added = g && d ? g.p50 - d.p50 : Number.NaN;
    const f = path_(c1, 'floor');
    const context = f && g ? `; the floor's own +${fmtMs(f.p50 - (d?.p50 ?? NaN))} ms, gateway-floor ${fmtSigned(g.p50 - f.p50)} ms, steal ${fmtInt(g.cpuBusy.steal ?? NaN)}% in the gateway's rounds` : '';
    checks.push({ name: 'non-streaming c1: added p50 <= 0.5 ms over direct', measured: `${fmtSigned(added)} ms (${fmtMs(g?.p50 ?? NaN)} vs ${fmtMs(d?.p50 ?? NaN)})${context}`, pass: Number.isFinite(added) ? added <= 0.5 : undefined });
  }
  const s1 = byId.get('stream-c1');
  if (s1) {
    const g = path_(s1, 'gateway');
    const d = path_(s1, 'direct');
    const added = g && d ? g.ttfbP50 - d.ttfbP50 : Number.NaN;
    checks.push({ name: 'streaming c1: added TTFB p50 <= 1 ms over direct', measured: `${fmtSigned(added)} ms (${fmtMs(g?.ttfbP50 ?? NaN)} vs ${fmtMs(d?.ttfbP50 ?? NaN)})`, pass: Number.isFinite(added) ? added <= 1 : undefined });
  }
  const nb = byId.get('no-buffering');
  const nbg = nb && path_(nb, 'gateway');
  if (nbg?.extra) {
    const e = nbg.extra;
    checks.push({
      name: 'streaming: no buffering (first chunk before the upstream sends the second)',
      measured: `first chunk after ${fmtMs(Number(e.worstTtfbMs))} ms with ${e.eventsInFirstChunk} event(s); upstream's second event at +${e.chunkDelayMs} ms`,
      pass: e.unbuffered === true,
    });
  }
  const pol = byId.get('policy-c64');
  if (pol) {
    const name = 'policy stage (issue 15): gateway+policy throughput >= 95% of the plain gateway at c64';
    const g = path_(pol, 'gateway');
    const p = path_(pol, 'gateway+policy');
    const failed = unavailableCheck(name, p);
    if (failed) checks.push(failed);
    else {
      const ratio = g && p ? pairedRatio(p, g, (r) => r.rps) : Number.NaN;
      const cpu = g && p ? pairedRatio(p, g, (r) => r.cpuUsPerReq) : Number.NaN;
      checks.push({
        name,
        measured: `${(ratio * 100).toFixed(1)}% (median of the rounds' policy/plain; ${fmtInt(p?.rps ?? NaN)} vs ${fmtInt(g?.rps ?? NaN)} req/s); CPU per request ${fmtInt(p?.cpuUsPerReq ?? NaN)} vs ${fmtInt(g?.cpuUsPerReq ?? NaN)} us = ${(cpu * 100).toFixed(0)}%`,
        pass: Number.isFinite(ratio) ? ratio >= 0.95 : undefined,
      });
    }
  }
  const lim = byId.get('limit-100k');
  if (lim) {
    const g = path_(lim, 'gateway');
    const l = path_(lim, 'gateway+limit');
    const added = g && l ? l.p50 - g.p50 : Number.NaN;
    checks.push({ name: '100 KB prompt: max_input_tokens check adds <= 2 ms', measured: `${fmtSigned(added)} ms (${fmtMs(l?.p50 ?? NaN)} vs ${fmtMs(g?.p50 ?? NaN)})`, pass: Number.isFinite(added) ? added <= 2 : undefined });
  }
  const st = byId.get('streams-1000');
  const stg = st && path_(st, 'gateway');
  if (stg?.extra) {
    const e = stg.extra;
    const peak = Number(e.peakRssMb);
    checks.push({
      name: `${e.streams} concurrent streams: all complete, gateway RSS < 300 MB`,
      measured: `${e.completed}/${e.streams} complete (${e.maxOpenAtOnce} open at once), peak RSS ${peak.toFixed(0)} MB (${Number(e.rssBeforeMb).toFixed(0)} MB before they opened, so the streams added ${(peak - Number(e.rssBeforeMb)).toFixed(0)} MB)`,
      pass: e.completed === e.streams && peak < 300,
    });
  }
  for (const [id, encoding] of [
    ['embeddings-c64', 'base64'],
    ['embeddings-float-c64', 'float'],
  ] as const) {
    const e = byId.get(id);
    if (e) checks.push(throughputCheck(e, `embeddings c64 (${encoding}): gateway throughput at least 75% of the floor's throughput`, 0.75));
  }
  for (const [id, what] of [
    ['anthropic-to-openai-c64', 'Anthropic client -> OpenAI upstream, non-streaming c64'],
    ['anthropic-to-openai-stream-c64', 'Anthropic client -> OpenAI upstream, streaming c64'],
    ['openai-to-anthropic-c64', 'OpenAI client -> Anthropic upstream, non-streaming c64'],
    ['openai-to-anthropic-stream-c64', 'OpenAI client -> Anthropic upstream, streaming c64'],
  ] as const) {
    const x = byId.get(id);
    if (x) checks.push(cpuCheck(x, `${what}: gateway CPU per request at most 2x the floor's (OpenAI->OpenAI)`, 2));
  }
  const bad = scenarios.filter((s) => usageMismatch(s.usage)).map((s) => `${s.id} ${usageText(s.usage)}`);
  checks.push({
    name: 'usage records stored = gateway requests answered, in every scenario',
    measured: `${totals.stored} with usage reported / ${totals.sent} answered successfully; ${totals.unreported} usage-missing for ${totals.failed} failed${bad.length ? ` (mismatch: ${bad.join('; ')})` : ''}`,
    pass: !usageMismatch(totals) && bad.length === 0,
  });
  return checks;
}

export function targetsText(checks: TargetCheck[]): string {
  return checks.map((c) => `  ${c.pass === undefined ? 'n/a ' : c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.measured}`).join('\n');
}

export const LEGEND = [
  'Legend: medians across rounds; spread = (max-min)/median of req/s across rounds. Latencies in ms at the client (the load generator).',
  'TTFB = first body chunk (SSE event), not the headers. CPU us/req and CPU % = the process answering that path',
  '(direct: the upstream; floor: the floor proxy; gateway: the gateway process only), from /proc/<pid>/stat.',
  'RSS = VmRSS of that process after the round (streams-1000: peak sampled every 50 ms). CPUs busy = each CPU\'s busy % in the round;',
  'st = the % of all CPUs\' time the hypervisor gave to other guests meanwhile (counted as busy; latency at concurrency 1 suffers first).',
].join('\n');

/** Writes results/<name>: JSON for values, as-is for text. */
export async function writeJson(name: string, data: unknown): Promise<string> {
  const dir = path.join(ROOT, 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(file, typeof data === 'string' ? data : JSON.stringify(data, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
  return file;
}

export function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}
