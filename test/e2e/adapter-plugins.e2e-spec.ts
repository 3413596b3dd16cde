import OpenAI from 'openai';
import { builtInAdaptersV2 } from '#libs/adapters';
import { routeModel, waitUntilRoutable } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';
import { DEFAULT_CONTENT, startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';

/**
 * Adapter plugins (issue 12, items 5 and 6): the product started with ADAPTER_PLUGINS naming a
 * package outside libs/ (test/fixtures/plugins/acme-adapter, relative to the working directory)
 * accepts connections of its adapter, refuses adapters nobody loaded at create time, and routes
 * calls through the plugin; a plugin that fails to load stops the start.
 */
const ACME_PACKAGE = './test/fixtures/plugins/acme-adapter';
const FAILING_PLUGIN = './test/fixtures/plugins/throws-on-import-plugin.mjs';

interface AdminAnswer {
  status: number;
  body: { error?: { code: string; message: string; details?: unknown } } & Record<string, unknown>;
}

async function createConnection(product: Product, body: Record<string, unknown>): Promise<AdminAnswer> {
  const res = await fetch(`${product.url}/admin/connections`, {
    method: 'POST',
    headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as AdminAnswer['body'] };
}

async function connectionNames(product: Product): Promise<string[]> {
  const res = await fetch(`${product.url}/admin/connections?limit=200`, { headers: { authorization: `Bearer ${product.adminKey}` } });
  return ((await res.json()) as { items: { name: string }[] }).items.map((c) => c.name);
}

describe('adapter plugins', () => {
  let fake: FakeOpenAI;
  let product: Product;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    product = await startProduct({ env: { ADAPTER_PLUGINS: ACME_PACKAGE } });
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  beforeEach(() => fake.reset());

  it('accepts a connection whose adapter a plugin package brought', async () => {
    const answer = await createConnection(product, { name: 'acme-prod', adapter: 'acme', baseUrl: fake.url, apiKey: 'ak-acme-0001' });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ name: 'acme-prod', adapter: 'acme', baseUrl: fake.url, apiKeyMasked: '••••0001' });
  });

  it.each(['watsonx', 'acme-unknown', 'fixture-v2'])('refuses a connection of adapter %s, which nothing loaded, with 400 validation_failed naming adapter and the loaded adapters', async (adapter) => {
    const name = `not-loaded-${adapter}`;
    const answer = await createConnection(product, { name, adapter, baseUrl: 'https://llm.example.com/v1', apiKey: 'sk-whatever-0001' });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'adapter', messages: [`adapter ${adapter} is not loaded by this gateway; loaded adapters: ${[...builtInAdaptersV2.map((a) => a.id), 'acme'].join(', ')}`] }],
    });
    expect(await connectionNames(product)).not.toContain(name);
  });

  it('refuses an adapter id that is not an id at all by its syntax, naming the field', async () => {
    const answer = await createConnection(product, { name: 'bad-id', adapter: 'Acme Adapter', baseUrl: fake.url, apiKey: 'ak-acme-0001' });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'adapter' })] });
  });

  it("stores the plugin's declared default endpoint when a connection gives none, and checks its settings with the plugin's own rules", async () => {
    const defaulted = await createConnection(product, { name: 'acme-default', adapter: 'acme', apiKey: 'ak-acme-0002' });
    expect(defaulted.status).toBe(201);
    expect(defaulted.body).toMatchObject({ adapter: 'acme', baseUrl: 'https://api.acme.example/v1' });
    const claude = await createConnection(product, { name: 'claude-default', adapter: 'anthropic', apiKey: 'sk-ant-0003' });
    expect(claude.body).toMatchObject({ adapter: 'anthropic', baseUrl: 'https://api.anthropic.com' });
    const noEndpoint = await createConnection(product, { name: 'vllm-nowhere', adapter: 'openai-compatible', apiKey: 'sk-0004' });
    expect(noEndpoint.status).toBe(400);
    expect(noEndpoint.body.error).toMatchObject({ code: 'validation_failed', details: [{ field: 'baseUrl', messages: ['is required'] }] });
  });

  // Today's /v1 handler calls the plugin's v1 (AdapterRegistry.get); once it is rewired onto
  // AdapterRegistry.getV2 the same calls go through the plugin's v2. Both build the request with
  // the plugin's own auth header, which no built-in adapter sends.
  it('routes a chat call and a stream through the plugin, which builds the upstream request with its own auth header', async () => {
    const route = await routeModel(product, { adapter: 'acme', upstreamUrl: fake.url, upstreamKey: 'ak-acme-route-7777', upstreamModel: 'acme-large' });
    await waitUntilRoutable(product, route);
    const client = new OpenAI({ apiKey: route.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });

    const answer = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'hello acme' }] });
    expect(answer.choices[0]?.message.content).toBe(DEFAULT_CONTENT);

    const stream = await client.chat.completions.create({ model: route.modelName, stream: true, messages: [{ role: 'user', content: 'stream, acme' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(DEFAULT_CONTENT);

    expect(fake.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    for (const recorded of fake.requests) {
      expect(recorded.headers['x-acme-key']).toBe('ak-acme-route-7777');
      expect(recorded.headers['x-acme-contract']).toMatch(/^v[12]$/);
      expect(recorded.headers.authorization).toBeUndefined();
      expect(recorded.body).toMatchObject({ model: 'acme-large' });
    }
  });
});

describe('adapter plugins that cannot be used', () => {
  it('stops the start when a plugin fails to load: the process exits non-zero and its output names the plugin and why', async () => {
    const err = await startProduct({ env: { ADAPTER_PLUGINS: `${ACME_PACKAGE},${FAILING_PLUGIN}` }, startTimeoutMs: 60_000 }).then(
      async (started) => {
        await started.stop();
        return new Error('the product started with a plugin that cannot load');
      },
      (e: unknown) => e as Error,
    );
    expect(err.message).toMatch(/^a product process exited \(1\) while waiting for/);
    expect(err.message).toContain(`adapter plugin ${FAILING_PLUGIN} could not be loaded: FIXTURE_TOKEN is not set`);
  }, 120_000);

  it('stops the start naming ADAPTER_PLUGINS when an entry is neither a package name nor a path', async () => {
    const err = await startProduct({ env: { ADAPTER_PLUGINS: 'My Adapter' }, startTimeoutMs: 60_000 }).then(
      async (started) => {
        await started.stop();
        return new Error('the product started with a malformed ADAPTER_PLUGINS');
      },
      (e: unknown) => e as Error,
    );
    expect(err.message).toMatch(/^a product process exited \(78\) while waiting for/);
    expect(err.message).toContain('ADAPTER_PLUGINS must be comma-separated package names');
  }, 120_000);
});
