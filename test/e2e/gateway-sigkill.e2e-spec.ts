import pg from 'pg';
import { AppConfig } from '#libs/config';
import { routeModel, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { productModeFromEnv, startProduct, type Product } from '../support/e2e/product.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';

/** TELEMETRY_FLUSH_MS's default: the window of spans a SIGKILLed gateway may lose (README, configuration). */
const FLUSH_MS = new AppConfig().telemetryFlushMs;
/**
 * Room for the publish itself (a JetStream round trip), answers still on their way to the client, and
 * a flush timer firing late on a loaded machine (CI runs suites side by side on two cores). On a quiet
 * one the loss fits the flush interval plus ~150 ms; the figure printed is the measurement.
 */
const PUBLISH_ROOM_MS = 1000;

/**
 * Issue 17.4: a gateway killed with SIGKILL loses at most the spans of its last flush interval. The
 * gateway is its own process only in distributed mode, so this runs there (embedded: one process
 * holds metering too, and its kill is the restart test of embedded-lifecycle).
 *
 * Calls run at a steady rate against the gateway; it is killed mid-traffic; then every answered call
 * either has its usage record or was answered within the last flush interval before the kill, and
 * no call has two records.
 */
(productModeFromEnv() === 'distributed' ? describe : describe.skip)('a gateway killed with SIGKILL', () => {
  let fake: FakeOpenAI;
  let product: Product;
  let route: RoutedModel;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ defaultBehaviour: { kind: 'completion', usage: { promptTokens: 7, completionTokens: 3 } } });
    product = await startProduct();
    route = await routeModel(product, { upstreamUrl: fake.url, modelName: 'sigkill-model', upstreamModel: 'sigkill-upstream', prices: { input: '0.000001', output: '0.000002' } });
    await waitUntilRoutable(product, route, 10_000);
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  it(`loses at most the calls answered in its last flush interval (${FLUSH_MS} ms, with ${PUBLISH_ROOM_MS} ms of room for the publish and a loaded machine), and doubles none`, async () => {
    const answeredAt: number[] = [];
    let killedAt = 0;
    const caller = async () => {
      while (killedAt === 0) {
        try {
          const res = await fetch(`${product.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${route.clientKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: route.modelName, messages: [{ role: 'user', content: 'count me' }] }),
          });
          await res.arrayBuffer();
          if (res.status === 200) answeredAt.push(Date.now());
          else throw new Error(`a call answered ${res.status}`);
        } catch (err) {
          if (killedAt === 0) throw err;
        }
      }
    };
    const callers = Array.from({ length: 8 }, caller);
    // Long enough for several flushes, then the kill lands between two of them.
    await new Promise((r) => setTimeout(r, 2000 + Math.random() * FLUSH_MS));
    killedAt = Date.now();
    product.gatewayProcess.kill('SIGKILL');
    await Promise.all(callers);

    const db = new pg.Client({ connectionString: product.databaseUrl });
    await db.connect();
    try {
      const count = async () =>
        (await db.query<{ records: number; spans: number }>(`SELECT count(*)::int AS records, count(DISTINCT (trace_id, span_id))::int AS spans FROM metering.usage_records WHERE connection_id = $1`, [route.connectionId])).rows[0]!;
      // Metering keeps storing what reached the stream before the kill: wait until the count is still.
      let last = await count();
      for (let still = 0; still < 3; ) {
        await new Promise((r) => setTimeout(r, 500));
        const now = await count();
        still = now.records === last.records ? still + 1 : 0;
        last = now;
      }
      const answered = answeredAt.length;
      const inLastWindow = answeredAt.filter((t) => t >= killedAt - FLUSH_MS - PUBLISH_ROOM_MS).length;
      const lost = answered - last.records;
      process.stdout.write(`gateway SIGKILL at TELEMETRY_FLUSH_MS=${FLUSH_MS}: ${lost} of ${answered} answered calls unrecorded (${inLastWindow} answered in the last ${FLUSH_MS + PUBLISH_ROOM_MS} ms)\n`);
      expect(answered).toBeGreaterThan(50);
      expect(last.spans).toBe(last.records); // none doubled
      // A call the gateway finished just before the kill may have its record without its answer reaching the client.
      expect(last.records).toBeLessThanOrEqual(answered + callers.length);
      expect(lost).toBeLessThanOrEqual(inLastWindow);
    } finally {
      await db.end();
    }
  }, 60_000);
});
