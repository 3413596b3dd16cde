import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { CostGrouping } from '#libs/contracts';
import { openServiceDatabase } from '#libs/db';
import { addToRollups } from '../../apps/usage-metering/src/migrations/1796680000000-usage-rollups-pregrouped.js';
import { UsageRecordEntity } from '../../apps/usage-metering/src/records/usage-record.entity.js';
import { CostsReportRepository } from '../../apps/usage-metering/src/reports/costs-report.repository.js';
import { METERING_MIGRATIONS, METERING_SCHEMA } from '../../apps/usage-metering/src/usage-metering.module.js';

/**
 * Report scale (issue 17 item 5: report queries under one second over 10 million usage records).
 * Loads N usage records into a scratch database on the machine's Postgres (usage-metering's own
 * migrations, rows made by generate_series in chunks, in time order as calls arrive), builds the
 * rollups with the migration's own backfill statement a few days at a time (the insert trigger is
 * off during the load: it is the same sums, and a 500,000-row statement through it spreads over
 * more hours than any span batch does), then times every report shape through the product's
 * CostsReportRepository. Run:
 *
 *   npm run build && node dist/test/bench/report-scale.js [--records 10000000] [--database-url URL] [--keep]
 *
 * The data: 90 days; three organisations (80/10/10 %); 12 models, 100 keys in 10 projects, 300
 * end users (half the calls name none), skewed towards the first ones as real traffic is; 1 % of
 * calls partial, 0.5 % missing usage, 1 % failed, 4 % unpriced. The rollup's size is printed: its
 * rows per hour grow with the distinct (model, key, user, ...) combinations an hour sees.
 */

const DAY_MS = 24 * 3600 * 1000;
const END = Date.parse('2026-12-01T00:00:00.000Z');
const DAYS = 90;
const CHUNK = 1_000_000;
const GROUPINGS: CostGrouping[] = ['model', 'provider', 'connection', 'provider_model', 'key', 'user', 'project', 'day', 'hour'];

function options(): { records: number; adminUrl: string; keep: boolean; runs: number } {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '10000000' },
      'database-url': { type: 'string', default: process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
      keep: { type: 'boolean', default: false },
      reuse: { type: 'boolean', default: false },
      runs: { type: 'string', default: '3' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('node dist/test/bench/report-scale.js [--records N] [--database-url postgres://...] [--runs 3] [--keep]');
    process.exit(0);
  }
  return { records: Number(values.records), adminUrl: values['database-url']!, keep: values.keep!, runs: Number(values.runs) };
}

function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Rows lo..hi of the synthetic records; every column from one row of random numbers. */
function insertChunk(lo: number, hi: number, total: number): string {
  return `
    INSERT INTO usage_records (id, organisation_id, project_id, key_id, trace_id, span_id, source, model, definition_id, price_effective_from,
                               started_at, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost, cost_breakdown,
                               priced, unpriced_reason, usage_status, error_type, estimated, provider, connection_id, provider_model, user_id)
    SELECT 'usage_' || lpad(i::text, 10, '0'),
           CASE WHEN r1 < 0.8 THEN 'org-big' WHEN r1 < 0.9 THEN 'org-b' ELSE 'org-c' END,
           'proj-' || (k % 10), 'key-' || k, 'trace-' || i, lpad(to_hex(i), 16, '0'), 'gateway', 'model-' || m,
           CASE WHEN priced THEN 'def-' || m END, CASE WHEN priced THEN timestamptz '2026-01-01' END,
           timestamptz '${new Date(END).toISOString()}' - (1 - (i - r2) / ${total}) * interval '${DAYS} days',
           inp, outp, cr, cw, rs,
           CASE WHEN priced THEN inp * 0.0000025 + outp * 0.00001 + cr * 0.00000125 + cw * 0.000003125 END,
           CASE WHEN priced THEN '{"input":"0"}'::jsonb END,
           priced, CASE WHEN NOT priced THEN (CASE WHEN missing THEN 'usage_missing' ELSE 'no_matching_definition' END) END,
           CASE WHEN missing THEN 'missing' WHEN r5 < 0.01 THEN 'partial' ELSE 'reported' END,
           CASE WHEN r6 < 0.01 THEN 'upstream_error' END, r6 > 0.99,
           CASE WHEN m % 3 = 0 THEN 'anthropic' ELSE 'openai' END, 'conn-' || (m % 4), 'pm-' || m,
           CASE WHEN r7 < 0.5 THEN NULL ELSE 'user-' || u END
      FROM (SELECT i, r1, r2, r5, r6, r7, m, k, u, missing, priced,
                   CASE WHEN missing THEN 0 ELSE (r3 * 4000)::bigint END AS inp,
                   CASE WHEN missing THEN 0 ELSE (r4 * 800)::bigint END AS outp,
                   CASE WHEN missing THEN 0 ELSE (r3 * 1000)::bigint END AS cr,
                   CASE WHEN missing THEN 0 ELSE (r4 * 100)::bigint END AS cw,
                   CASE WHEN missing THEN 0 ELSE (r4 * 50)::bigint END AS rs
              FROM (SELECT i, r1, r2, r3, r4, r5, r6, r7, m, k, u, missing, NOT missing AND r8 >= 0.04 AS priced
                      FROM (SELECT i, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5, random() AS r6, random() AS r7, random() AS r8,
                                   floor(12 * random() ^ 3)::int AS m, floor(100 * random() ^ 2)::int AS k, floor(300 * random() ^ 3)::int AS u,
                                   random() < 0.005 AS missing
                              FROM generate_series(${lo}, ${hi}) AS i) a) b) c`;
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const result = await f();
  return [result, performance.now() - t0];
}

async function main(): Promise<void> {
  const opts = options();
  const database = 'gw_report_scale';
  const admin = new pg.Client({ connectionString: opts.adminUrl });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount! > 0;
  const url = databaseUrl(opts.adminUrl, database);
  let load = exists && opts.keep;
  if (!load) {
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.query(`CREATE DATABASE ${database}`);
  }
  const ds = await openServiceDatabase({ url, schema: METERING_SCHEMA, entities: [UsageRecordEntity], migrations: METERING_MIGRATIONS, poolSize: 2 });
  try {
    const have = Number((await ds.query<{ n: string }[]>('SELECT count(*)::text AS n FROM usage_records'))[0]!.n);
    if (have < opts.records) {
      console.log(`loading ${opts.records.toLocaleString('en')} usage records (chunks of ${CHUNK.toLocaleString('en')}) into ${database} ...`);
      const t0 = performance.now();
      await ds.query('ALTER TABLE usage_records DISABLE TRIGGER usage_rollups_inserted');
      await ds.query('SELECT setseed(0.17)');
      for (let lo = have + 1; lo <= opts.records; lo += CHUNK) {
        const hi = Math.min(opts.records, lo + CHUNK - 1);
        const [, ms] = await timed(() => ds.query(insertChunk(lo, hi, opts.records)));
        console.log(`  rows ${lo.toLocaleString('en')}..${hi.toLocaleString('en')}: ${(ms / 1000).toFixed(1)} s (${Math.round(((hi - lo + 1) / ms) * 1000).toLocaleString('en')} rows/s)`);
      }
      console.log(`loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s; building the rollups ...`);
      const t1 = performance.now();
      const STEP = 5 * DAY_MS;
      for (let t = END - DAYS * DAY_MS - DAY_MS; t < END; t += STEP) {
        const slice = `(SELECT * FROM usage_records WHERE started_at >= '${new Date(t).toISOString()}' AND started_at < '${new Date(t + STEP).toISOString()}')`;
        await ds.query(addToRollups(slice));
      }
      await ds.query('ALTER TABLE usage_records ENABLE TRIGGER usage_rollups_inserted');
      console.log(`rollups built in ${((performance.now() - t1) / 1000).toFixed(0)} s; VACUUM ANALYZE ...`);
      await ds.query('VACUUM ANALYZE usage_records');
      await ds.query('VACUUM ANALYZE usage_rollups');
      load = true;
    }
    const sizes = (
      await ds.query<{ records: string; rollups: string; big: string; bigrollups: string }[]>(
        `SELECT (SELECT count(*) FROM usage_records)::text AS records, (SELECT count(*) FROM usage_rollups)::text AS rollups,
                (SELECT count(*) FROM usage_records WHERE organisation_id = 'org-big')::text AS big,
                (SELECT count(*) FROM usage_rollups WHERE organisation_id = 'org-big')::text AS bigrollups`,
      )
    )[0]!;
    console.log(`usage_records: ${Number(sizes.records).toLocaleString('en')} (org-big ${Number(sizes.big).toLocaleString('en')}); usage_rollups: ${Number(sizes.rollups).toLocaleString('en')} rows (org-big ${Number(sizes.bigrollups).toLocaleString('en')})`);

    const reports = new CostsReportRepository(ds);
    const to = new Date(END - 17 * 60_000 - 4321); // not on an hour: the edges are read from the records
    const windows: [string, Date][] = [
      ['last 24 h', new Date(to.getTime() - DAY_MS)],
      ['last 30 days', new Date(to.getTime() - 30 * DAY_MS)],
      [`all ${DAYS} days`, new Date(END - DAYS * DAY_MS - DAY_MS)],
    ];
    const scopes = [
      { organisationId: 'org-big', projectId: null },
      { organisationId: 'org-big', projectId: 'proj-3' },
    ];
    console.log(`\nreport queries (CostsReportRepository.groups), best and worst of ${opts.runs} runs, ms; target < 1000 ms. The machine is shared: other work runs beside this.`);
    console.log(`${'scope'.padEnd(16)} ${'window'.padEnd(14)} ${'group by'.padEnd(15)} ${'groups'.padStart(7)} ${'best'.padStart(8)} ${'worst'.padStart(8)}`);
    let worstOverall = 0;
    for (const scope of scopes) {
      for (const [name, from] of windows) {
        for (const groupBy of GROUPINGS) {
          const times: number[] = [];
          let groups = 0;
          for (let i = 0; i < opts.runs; i++) {
            const [rows, ms] = await timed(() => reports.groups(scope, { from, to, groupBy }));
            groups = rows.length;
            times.push(ms);
          }
          const worst = Math.max(...times);
          worstOverall = Math.max(worstOverall, worst);
          const label = scope.projectId ? `org-big/${scope.projectId}` : scope.organisationId;
          console.log(`${label.padEnd(16)} ${name.padEnd(14)} ${groupBy.padEnd(15)} ${String(groups).padStart(7)} ${Math.min(...times).toFixed(0).padStart(8)} ${worst.toFixed(0).padStart(8)}${worst >= 1000 ? '  !!! over 1 s' : ''}`);
        }
      }
    }
    // For scale: the same report summed straight over the records (what it did before the rollup).
    const [, rawMs] = await timed(() =>
      ds.query(
        `SELECT model, count(*), sum(input_tokens), sum(cost) FILTER (WHERE priced) FROM usage_records WHERE organisation_id = 'org-big' AND started_at >= $1 AND started_at < $2 GROUP BY 1`,
        [windows[1]![1].toISOString(), to.toISOString()],
      ),
    );
    console.log(`\nslowest report: ${worstOverall.toFixed(0)} ms (target < 1000 ms) ${worstOverall < 1000 ? 'OK' : 'MISSED'}`);
    console.log(`for comparison, the 30-day model report summed over the records themselves: ${rawMs.toFixed(0)} ms`);
    // For `npm run bench` (report-scale), which runs this script and reads this line.
    console.log(`BENCH-RESULT ${JSON.stringify({ records: Number(sizes.records), shapes: scopes.length * windows.length * GROUPINGS.length, slowestMs: Math.round(worstOverall), rawMs: Math.round(rawMs) })}`);
  } finally {
    await ds.destroy();
    if (!opts.keep) await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.end();
  }
}

await main();
