import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { routeModel, waitUntilRoutable } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';
import { startFakeOpenAI } from '../support/fake-upstream/index.js';

/**
 * What a gateway SIGKILL loses (issue 17 item 4: "at most the spans of the last flush interval").
 * Starts the product distributed (real Postgres and NATS JetStream; the gateway its own process),
 * keeps `--concurrency` chat calls in flight against a fake upstream, each with its own `user`
 * (so each call's usage record is found by it), kills the gateway with SIGKILL after `--seconds`,
 * and, once metering has stored everything that reached the stream, compares the calls the client
 * got a complete answer to with the usage records. Lost = answered calls without a record; the
 * window = lost / the answered rate. Run:
 *
 *   npm run build && node dist/test/bench/gateway-kill-loss.js [--rounds 3] [--seconds 4] [--concurrency 16] [--flush-ms 100]
 *
 * Needs TEST_DATABASE_URL and TEST_NATS_URL (defaults: the machine's Postgres and NATS).
 */

const UPSTREAM_KEY = 'sk-kill-loss-upstream-4b7e1c9d';

interface Round {
  answered: number;
  recorded: number;
  lost: number;
  /** Records of calls the client never got an answer to (killed while answering): not a loss. */
  recordedUnanswered: number;
  ratePerSecond: number;
}

async function recordedUsers(databaseUrl: string, prefix: string): Promise<Set<string>> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    // Metering stores what reached the stream within a second or two; wait until the count is still.
    let last = -1;
    let still = 0;
    for (;;) {
      const n = Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM metering.usage_records WHERE user_id LIKE $1`, [`${prefix}%`])).rows[0]!.n);
      still = n === last ? still + 1 : 0;
      last = n;
      if (still >= 6) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const rows = await db.query<{ user_id: string }>(`SELECT user_id FROM metering.usage_records WHERE user_id LIKE $1`, [`${prefix}%`]);
    return new Set(rows.rows.map((r) => r.user_id));
  } finally {
    await db.end();
  }
}

async function round(index: number, options: { seconds: number; concurrency: number; flushMs: string | undefined }): Promise<Round> {
  const fake = await startFakeOpenAI({ apiKey: UPSTREAM_KEY, record: false });
  let product: Product | undefined;
  try {
    product = await startProduct({ mode: 'distributed', env: options.flushMs ? { TELEMETRY_FLUSH_MS: options.flushMs } : {} });
    const route = await routeModel(product, { upstreamUrl: fake.url, upstreamKey: UPSTREAM_KEY, prices: { input: '0.000001', output: '0.000002' } });
    await waitUntilRoutable(product, route, 5000);
    const prefix = `kill-${index}-${process.pid}-`;
    const answered = new Set<string>();
    let next = 0;
    let stop = false;
    const url = `${product.url}/v1/chat/completions`;
    const call = async (): Promise<void> => {
      while (!stop) {
        const user = `${prefix}${next++}`;
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { authorization: `Bearer ${route.clientKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: route.modelName, messages: [{ role: 'user', content: 'hi' }], user }),
          });
          const body = (await res.json()) as { usage?: unknown };
          if (res.status === 200 && body.usage) answered.add(user);
        } catch {
          // The gateway was killed under this call: not answered.
        }
      }
    };
    const t0 = performance.now();
    const loops = Array.from({ length: options.concurrency }, () => call());
    // A kill at a random point of the flush cycle, after a steady few seconds.
    await new Promise((r) => setTimeout(r, options.seconds * 1000 + Math.random() * 1000));
    product.gatewayProcess.kill('SIGKILL');
    const elapsed = (performance.now() - t0) / 1000;
    stop = true;
    await Promise.all(loops);
    const recorded = await recordedUsers(product.databaseUrl!, prefix);
    const lost = [...answered].filter((u) => !recorded.has(u)).length;
    const recordedUnanswered = [...recorded].filter((u) => !answered.has(u)).length;
    return { answered: answered.size, recorded: recorded.size, lost, recordedUnanswered, ratePerSecond: answered.size / elapsed };
  } finally {
    await product?.stop().catch(() => undefined);
    await fake.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '4' },
      concurrency: { type: 'string', default: '16' },
      'flush-ms': { type: 'string' },
    },
  });
  process.env['TEST_DATABASE_URL'] ??= 'postgres://postgres@127.0.0.1:5432/postgres';
  process.env['TEST_NATS_URL'] ??= 'nats://127.0.0.1:4222';
  const flushMs = values['flush-ms'];
  console.log(`gateway SIGKILL under load: ${values.concurrency} calls in flight, TELEMETRY_FLUSH_MS ${flushMs ?? '(default)'}`);
  let worstWindowMs = 0;
  for (let i = 0; i < Number(values.rounds); i++) {
    const r = await round(i, { seconds: Number(values.seconds), concurrency: Number(values.concurrency), flushMs });
    const windowMs = (r.lost / r.ratePerSecond) * 1000;
    worstWindowMs = Math.max(worstWindowMs, windowMs);
    console.log(
      `  round ${i + 1}: ${r.answered.toLocaleString('en')} calls answered (${Math.round(r.ratePerSecond).toLocaleString('en')}/s), ${r.lost} without a usage record (${((r.lost / r.answered) * 100).toFixed(2)}%, ~${Math.round(windowMs)} ms of calls); ${r.recordedUnanswered} recorded though their answer never arrived`,
    );
  }
  console.log(`worst window lost: ~${Math.round(worstWindowMs)} ms of calls (the flush interval bounds it: spans wait at most that long in the gateway before they are on the durable stream)`);
}

await main();
