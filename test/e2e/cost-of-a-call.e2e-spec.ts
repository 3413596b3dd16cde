import { readdirSync, readFileSync } from 'node:fs';
import OpenAI from 'openai';
import pg from 'pg';
import request from 'supertest';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { waitForCostReport } from '../support/e2e/admin-setup.js';
import { SERVICES, startProduct, type Product } from '../support/e2e/product.js';

/**
 * The foundation path through all services, driven as a user would: an admin sets up a
 * connection, a provider model, a model definition and a key; a client calls with the official
 * `openai` package; the call's cost shows in the cost report, equal to tokens x price by hand.
 */
describe('the cost of a call, end to end', () => {
  const UPSTREAM_KEY = 'sk-upstream-secret-7f3a9c1d4e2b';
  let fake: FakeOpenAI;
  let product: Product;
  let admin: (method: 'get' | 'post' | 'delete', path: string) => request.Test;
  let clientKey: string;
  let connectionId: string;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ apiKey: UPSTREAM_KEY });
    product = await startProduct();
    admin = (method, path) => request(product.url)[method](path).set('authorization', `Bearer ${product.adminKey}`);
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  it('is ready, and documents its admin API at /docs-json', async () => {
    const ready = await request(product.url).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toMatchObject({ database: 'ok', 'credential-vault': 'ok', 'model-registry': 'ok', 'usage-metering': 'ok', evaluator: 'ok' });
    const docs = await request(product.url).get('/docs-json');
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/admin/connections', '/admin/provider-models', '/admin/model-definitions', '/admin/gateway-keys', '/admin/usage/costs']));
    expect((await request(product.url).get('/docs')).status).toBe(200);
  });

  it('runs usage-metering alone below the gateway’s CPU priority, every thread of it; the embedded product keeps its own', () => {
    const nicenessOf = (pid: number): number[] =>
      readdirSync(`/proc/${pid}/task`).map((tid) => {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]); // field 19: nice
      });
    const gateway = nicenessOf(product.gatewayProcess.pid!);
    expect(new Set(gateway)).toEqual(new Set([0]));
    if (product.mode === 'distributed') {
      const metering = nicenessOf(product.processes[SERVICES.indexOf('usage-metering')]!.pid!);
      expect(metering.length).toBeGreaterThan(1);
      expect(new Set(metering)).toEqual(new Set([10]));
    }
  });

  it('stores a connection with its key masked to the last 4 characters', async () => {
    const created = await admin('post', '/admin/connections').send({
      name: 'fake-openai',
      adapter: 'openai-compatible',
      baseUrl: fake.url,
      apiKey: UPSTREAM_KEY,
      headers: { 'x-team': 'payments-team-header' },
    });
    expect(created.status).toBe(201);
    expect(created.body.apiKeyMasked).toBe('••••4e2b');
    expect(JSON.stringify(created.body)).not.toContain(UPSTREAM_KEY);
    expect(JSON.stringify(created.body)).not.toContain('payments-team-header');
    connectionId = created.body.id;

    const list = await admin('get', '/admin/connections');
    expect(list.status).toBe(200);
    expect(list.body.items.map((c: { id: string }) => c.id)).toContain(connectionId);
    expect(JSON.stringify(list.body)).not.toContain(UPSTREAM_KEY);
  });

  it('keeps the key encrypted at rest (distributed mode can read the rows)', async () => {
    if (!product.databaseUrl) return; // embedded: the vault's medium tests check the rows
    const db = new pg.Client({ connectionString: product.databaseUrl });
    await db.connect();
    try {
      const rows = await db.query('SELECT * FROM vault.connections');
      expect(rows.rowCount).toBe(1);
      const dump = JSON.stringify(rows.rows, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v));
      expect(dump).not.toContain(UPSTREAM_KEY);
    } finally {
      await db.end();
    }
  });

  it('routes a client model name, prices it, and issues a client key', async () => {
    const model = await admin('post', '/admin/provider-models').send({ name: 'team-gpt', connectionId, upstreamModel: 'gpt-4o-mini-2024-07-18' });
    expect({ status: model.status, body: model.body }).toMatchObject({ status: 201 });
    const definition = await admin('post', '/admin/model-definitions').send({
      name: 'gpt-4o-mini',
      matchPattern: '^gpt-4o-mini',
      prices: { input: '0.00000015', output: '0.0000006' },
      effectiveFrom: '2024-01-01T00:00:00Z',
    });
    expect(definition.status).toBe(201);
    const key = await admin('post', '/admin/gateway-keys').send({ name: 'billing-service' });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^sk-gw-/);
    clientKey = key.body.key;
    const listed = await admin('get', '/admin/gateway-keys');
    expect(JSON.stringify(listed.body)).not.toContain(clientKey);
  });

  it('answers a chat completion from the official openai client through the upstream', async () => {
    fake.enqueue({ kind: 'completion', content: 'Paris is the capital of France.', usage: { promptTokens: 1234, completionTokens: 567 } });
    const client = new OpenAI({ apiKey: clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    const completion = await eventuallyRoutable(() =>
      client.chat.completions.create({ model: 'team-gpt', messages: [{ role: 'user', content: 'What is the capital of France?' }] }),
    );
    expect(completion.choices[0].message.content).toBe('Paris is the capital of France.');
    expect(completion.usage).toMatchObject({ prompt_tokens: 1234, completion_tokens: 567 });

    const upstream = fake.requests.at(-1)!;
    expect(upstream.path).toBe('/v1/chat/completions');
    expect(upstream.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(upstream.headers['x-team']).toBe('payments-team-header');
    expect((upstream.body as { model: string }).model).toBe('gpt-4o-mini-2024-07-18');
  });

  it('shows the cost of that call in the cost report, equal to tokens x price by hand', async () => {
    // 1234 x 0.00000015 = 0.0001851 and 567 x 0.0000006 = 0.0003402: 0.0005253 in all.
    const report = await waitForCostReport(product, (r) => r.groups.some((g) => g.key === 'gpt-4o-mini-2024-07-18' && g.requests === 1 && g.unpricedRequests === 0));
    const group = report.groups.find((g) => g.key === 'gpt-4o-mini-2024-07-18')!;
    expect(group).toMatchObject({ requests: 1, inputTokens: 1234, outputTokens: 567, unpricedRequests: 0 });
    expect(group.cost).toBe('0.0005253');
    expect(report.totalCost).toBe('0.0005253');
  });

  it('streams a chat completion chunk by chunk and meters it too', async () => {
    fake.enqueue({ kind: 'completion', deltas: ['Bonjour', ', ', 'le ', 'monde'], usage: { promptTokens: 10, completionTokens: 4 } });
    const client = new OpenAI({ apiKey: clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'team-gpt', messages: [{ role: 'user', content: 'Say hello' }], stream: true });
    let text = '';
    let sawUsageChunk = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) sawUsageChunk = true;
    }
    expect(text).toBe('Bonjour, le monde');
    expect(sawUsageChunk).toBe(false); // not asked for, so not forwarded, though metered
    // 10 x 0.00000015 + 4 x 0.0000006 = 0.0000015 + 0.0000024 = 0.0000039; with the first call 0.0005292.
    const report = await waitForCostReport(product, (r) => r.groups.some((g) => g.key === 'gpt-4o-mini-2024-07-18' && g.requests === 2 && g.unpricedRequests === 0));
    expect(report.totalCost).toBe('0.0005292');
  });

  it("records a call made with a W3C traceparent in the caller's trace", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    fake.enqueue({ kind: 'completion', content: 'traced', usage: { promptTokens: 1, completionTokens: 1 } });
    const client = new OpenAI({ apiKey: clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create(
      { model: 'team-gpt', messages: [{ role: 'user', content: 'traced call' }] },
      { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } },
    );
    await waitForCostReport(product, (r) => r.groups.some((g) => g.key === 'gpt-4o-mini-2024-07-18' && g.requests === 3));
    if (!product.databaseUrl) return; // embedded: call-span.spec checks the span's parent
    const db = new pg.Client({ connectionString: product.databaseUrl });
    await db.connect();
    try {
      const rows = await db.query<{ trace_id: string; span_id: string }>('SELECT trace_id, span_id FROM metering.usage_records ORDER BY started_at');
      expect(rows.rows.map((r) => r.trace_id)).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/), expect.stringMatching(/^[0-9a-f]{32}$/), traceId]);
      expect(rows.rows[0]!.trace_id).not.toBe(rows.rows[1]!.trace_id); // calls without a traceparent start their own traces
      for (const r of rows.rows) expect(r.span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(rows.rows[2]!.span_id).not.toBe('00f067aa0ba902b7'); // the gateway's span is the caller's child, not the caller's span
    } finally {
      await db.end();
    }
  });

  it('refuses /admin without a valid admin key (401), and a client key (403)', async () => {
    const none = await request(product.url).get('/admin/connections');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    const wrong = await request(product.url).get('/admin/connections').set('authorization', 'Bearer sk-gw-not-a-real-key');
    expect(wrong.status).toBe(401);
    const client = await request(product.url).get('/admin/connections').set('authorization', `Bearer ${clientKey}`);
    expect(client.status).toBe(403);
    expect(client.body.error.code).toBe('forbidden');
  });

  it('answers an invalid body with 400 and one message per bad field', async () => {
    // An adapter id that is not an id by its syntax: ids are plugin-defined since ADAPTER_PLUGINS, so
    // a well-formed unknown id ('nope') is refused later, by the vault's loaded-adapter check, alone.
    const res = await admin('post', '/admin/connections').send({ name: '', adapter: 'Not An Id!', baseUrl: 'not a url', apiKey: 42 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    const fields = (res.body.error.details as { field: string }[]).map((d) => d.field).sort();
    expect(fields).toEqual(['adapter', 'apiKey', 'baseUrl', 'name']);
    const unknownField = await admin('post', '/admin/gateway-keys').send({ name: 'x', isAdmin: true });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.message).toContain('isAdmin');
  });

  it('answers an unknown id with 404 not_found', async () => {
    for (const path of ['/admin/connections/conn_nope', '/admin/provider-models/pm_nope', '/admin/model-definitions/mdef_nope', '/admin/gateway-keys/key_nope']) {
      const res = await admin('get', path);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 404, code: 'not_found' });
    }
  });

  it('answers /v1 errors in OpenAI format: bad key 401, unknown model 404', async () => {
    const badKey = new OpenAI({ apiKey: 'sk-gw-wrong', baseURL: `${product.url}/v1`, maxRetries: 0 });
    await expect(badKey.chat.completions.create({ model: 'team-gpt', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    const client = new OpenAI({ apiKey: clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    await expect(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('refuses a revoked key', async () => {
    const key = await admin('post', '/admin/gateway-keys').send({ name: 'short-lived' });
    const client = new OpenAI({ apiKey: key.body.key, baseURL: `${product.url}/v1`, maxRetries: 0 });
    await eventuallyRoutable(() => client.models.list());
    expect((await admin('delete', `/admin/gateway-keys/${key.body.id}`)).status).toBe(200);
    // The revocation reaches the gateway as a change event: within a second normally, more on a busy machine.
    const deadline = Date.now() + 5000;
    let status = 0;
    while (Date.now() < deadline) {
      status = await client.models.list().then(
        () => 200,
        (e: { status?: number }) => e.status ?? 0,
      );
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
  });

  /** A new key or model is live on the gateway within a second (change events), more on a busy machine; retry until then. */
  async function eventuallyRoutable<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        return await call();
      } catch (err) {
        const status = (err as { status?: number }).status;
        if ((status !== 401 && status !== 404) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }
});
