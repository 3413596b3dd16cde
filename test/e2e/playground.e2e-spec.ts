import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { adminCall, routeModel, waitForModelCosts, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

/**
 * The path through all five services: the admin API (gateway) asks the evaluator over the bus,
 * the evaluator calls the gateway's /v1 over HTTP, the gateway routes with the vault's credentials
 * and the registry's models, and metering prices the call.
 */
describe('playground runs', () => {
  let fake: FakeOpenAI;
  let product: Product;
  let route: RoutedModel;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ apiKey: 'sk-upstream-playground-1234' });
    product = await startProduct();
    route = await routeModel(product, { upstreamUrl: fake.url, upstreamKey: 'sk-upstream-playground-1234', prices: { input: '0.000003', output: '0.000015' } });
    await waitUntilRoutable(product, route);
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  it('runs a prompt through the evaluator and the gateway, keeps the run, and meters the call', async () => {
    fake.enqueue({ kind: 'completion', content: 'Forty-two.', usage: { promptTokens: 20, completionTokens: 3 } });
    const run = await adminCall<{ status: string; output: string; inputTokens: number; outputTokens: number; id: string }>(product, 'POST', '/admin/playground/runs', {
      model: route.modelName,
      messages: [{ role: 'user', content: 'What is six times seven?' }],
    });
    expect(run).toMatchObject({ status: 'succeeded', output: 'Forty-two.', inputTokens: 20, outputTokens: 3 });
    expect(run.id).toMatch(/^run_/);
    expect(fake.requests.at(-1)?.headers.authorization).toBe('Bearer sk-upstream-playground-1234');

    // 20 x 0.000003 + 3 x 0.000015 = 0.00006 + 0.000045 = 0.000105
    const group = await waitForModelCosts(product, route.upstreamModel);
    expect(group).toMatchObject({ requests: 1, cost: '0.000105' });
  });

  it('keeps a failed run with the gateway error, e.g. an unknown model', async () => {
    const run = await adminCall<{ status: string; error: string }>(product, 'POST', '/admin/playground/runs', {
      model: 'no-such-model',
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^404: .*no-such-model/);
  });

  it('refuses an invalid run with 400 naming the fields', async () => {
    const res = await fetch(`${product.url}/admin/playground/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: '', messages: [{ role: 'wizard', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { field: string }[] } };
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details.map((d) => d.field).sort()).toEqual(['messages.0.role', 'model']);
  });
});
