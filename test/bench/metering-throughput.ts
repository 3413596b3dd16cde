import { Controller, Module } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { CommandHandler } from '#libs/bus';
import { GatewayAttr, GenAiAttr, QUEUE_GROUPS, type ModelDefinitionView, type SpanRecord } from '#libs/contracts';
import { startBusService } from '#libs/runtime';
import { startUsageMetering } from '../../apps/usage-metering/src/usage-metering.module.js';
import { definitionView } from '../support/model-definition-view.js';
import { createServiceHarness } from '../support/service-harness.js';

/**
 * Metering throughput (issue 17 item 6: spans priced and stored per second end to end through real
 * NATS JetStream and Postgres; target 20,000/s). Starts usage-metering (its migrations on a fresh
 * database of the machine's Postgres, its durable consumer on the machine's NATS) beside a stand-in
 * registry with one priced definition, publishes span batches as the gateway's span publisher
 * does (telemetry.v1.spans, one JetStream message per batch), and times from the first publish
 * until every span is a usage record (priced, rolled up). Run:
 *
 *   npm run build && node dist/test/bench/metering-throughput.js [--spans 200000] [--batch 512] [--no-rollup]
 *
 * Publisher and metering share this process (as they share the machine), so the figure is a floor.
 */

@Controller()
class BenchRegistryHandler {
  static definitions: ModelDefinitionView[] = [];
  @CommandHandler('registry.v1.model-definitions.all', QUEUE_GROUPS.registry)
  all(): ModelDefinitionView[] {
    return BenchRegistryHandler.definitions;
  }
  @CommandHandler('registry.v1.last-used.record', QUEUE_GROUPS.registry)
  lastUsed(): { definitions: number; providerModels: number } {
    return { definitions: 0, providerModels: 0 };
  }
}

@Module({ controllers: [BenchRegistryHandler] })
class BenchRegistryModule {}

const ORG = 'org-bench';

function span(i: number, run: string, startNs: bigint): SpanRecord {
  return {
    traceId: `trace-${run}-${i}`,
    spanId: `span-${i}`,
    parentSpanId: null,
    name: 'chat gpt-4o-mini',
    startTimeUnixNano: (startNs + BigInt(i) * 1000n).toString(),
    endTimeUnixNano: (startNs + BigInt(i) * 1000n + 1_000_000n).toString(),
    status: { code: 'ok' },
    attributes: {
      [GenAiAttr.operationName]: 'chat',
      [GenAiAttr.requestModel]: 'gpt-4o-mini',
      [GenAiAttr.inputTokens]: 1000 + (i % 500),
      [GenAiAttr.outputTokens]: 200 + (i % 100),
      [GatewayAttr.model]: 'bench-gpt',
      [GatewayAttr.connectionId]: `conn-${i % 3}`,
    },
    organisationId: ORG,
    projectId: `proj-${i % 5}`,
    keyId: `key-${i % 20}`,
    source: 'gateway',
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { spans: { type: 'string', default: '200000' }, batch: { type: 'string', default: '512' }, 'no-rollup': { type: 'boolean', default: false } },
  });
  const total = Number(values.spans);
  const batchSize = Number(values.batch);
  process.env['TEST_DATABASE_URL'] ??= 'postgres://postgres@127.0.0.1:5432/postgres';
  process.env['TEST_NATS_URL'] ??= 'nats://127.0.0.1:4222';
  BenchRegistryHandler.definitions = [
    definitionView({ id: 'def_bench', organisationId: ORG, matchPattern: '^gpt-4o-mini$', priceVersions: [{ effectiveFrom: '2025-01-01T00:00:00.000Z', prices: { input: '0.00000015', output: '0.0000006' } }] }),
  ];
  const h = await createServiceHarness('metering_throughput');
  const db = new pg.Client({ connectionString: h.databaseUrl });
  try {
    await h.start((runtime) => startBusService('bench-registry', BenchRegistryModule, runtime));
    await h.start(startUsageMetering);
    await db.connect();
    // What the rollups cost the consumer: the same run with their insert trigger off.
    if (values['no-rollup']) await db.query('ALTER TABLE metering.usage_records DISABLE TRIGGER usage_rollups_inserted');
    const run = `${process.pid}`;
    const startNs = BigInt(Date.now()) * 1_000_000n;
    const batches: { batchId: string; spans: SpanRecord[] }[] = [];
    for (let i = 0; i < total; i += batchSize) {
      batches.push({ batchId: `batch-${run}-${i}`, spans: Array.from({ length: Math.min(batchSize, total - i) }, (_, j) => span(i + j, run, startNs)) });
    }
    // Wait until metering consumes (its definitions loaded): one span through first.
    await h.runtime.durable.publish('telemetry.v1.spans', { batchId: `warm-${run}`, spans: [span(-1, run, startNs)] }, `warm-${run}`);
    const count = async (): Promise<number> => Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM metering.usage_records`)).rows[0]!.n);
    while ((await count()) < 1) await new Promise((r) => setTimeout(r, 50));

    console.log(`publishing ${total.toLocaleString('en')} spans in batches of ${batchSize} to telemetry.v1.spans (NATS JetStream ${process.env['TEST_NATS_URL']}), metering storing into ${h.databaseUrl.replace(/\/\/[^@]*@/, '//')}`);
    const t0 = performance.now();
    let published = 0;
    const publishing = (async () => {
      for (let i = 0; i < batches.length; i += 20) {
        await Promise.all(batches.slice(i, i + 20).map((b) => h.runtime.durable.publish('telemetry.v1.spans', b, b.batchId)));
        for (const b of batches.slice(i, i + 20)) published += b.spans.length;
      }
      return performance.now() - t0;
    })();
    let stored = 0;
    let last = t0;
    let lastStored = 0;
    while (stored < total + 1) {
      await new Promise((r) => setTimeout(r, 1000));
      stored = await count();
      const now = performance.now();
      console.log(`  ${((now - t0) / 1000).toFixed(1)} s: ${published.toLocaleString('en')} published, ${(stored - 1).toLocaleString('en')} stored (${Math.round(((stored - lastStored) / (now - last)) * 1000).toLocaleString('en')}/s)`);
      last = now;
      lastStored = stored;
    }
    const elapsed = performance.now() - t0;
    const publishMs = await publishing;
    const priced = Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM metering.usage_records WHERE priced`)).rows[0]!.n) - 1;
    console.log(`\npublished in ${(publishMs / 1000).toFixed(1)} s; all ${total.toLocaleString('en')} stored (${priced.toLocaleString('en')} priced) in ${(elapsed / 1000).toFixed(1)} s`);
    console.log(`end to end: ${Math.round((total / elapsed) * 1000).toLocaleString('en')} spans/s priced and stored (target 20,000/s). The machine is shared.`);
    // For `npm run bench` (metering-intake), which runs this script and reads this line.
    console.log(`BENCH-RESULT ${JSON.stringify({ spans: total, priced, seconds: elapsed / 1000, spansPerSecond: Math.round((total / elapsed) * 1000), rollups: !values['no-rollup'] })}`);
  } finally {
    await db.end().catch(() => undefined);
    await h.close();
  }
}

await main();
