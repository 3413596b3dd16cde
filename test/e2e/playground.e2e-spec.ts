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
    const group = await waitForModelCosts(product, route.upstreamModel, { priced: true });
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

  it('streams one prompt across three models multiplexed over SSE; a failing model does not stop the others; the session is saved and re-runnable', async () => {
    const second = await routeModel(product, { upstreamUrl: fake.url, upstreamKey: 'sk-upstream-playground-1234', prices: { input: '0.000001', output: '0.000002' } });
    const broken = await routeModel(product, { upstreamUrl: fake.url, upstreamKey: 'sk-upstream-playground-1234' });
    await waitUntilRoutable(product, second);
    await waitUntilRoutable(product, broken);
    // The first model's stream lasts 600 ms or more, so the second one's deltas come inside it even when its call starts late on a busy machine.
    fake.script(route.upstreamModel, { kind: 'stream', deltas: ['Forty', '-two', '.'], chunkDelayMs: 200, usage: { promptTokens: 12, completionTokens: 3 } });
    fake.script(second.upstreamModel, { kind: 'stream', deltas: ['4', '2'], chunkDelayMs: 30, usage: { promptTokens: 12, completionTokens: 2 } });
    fake.script(broken.upstreamModel, { kind: 'error', status: 500 });

    const res = await fetch(`${product.url}/admin/playground/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ models: [route.modelName, second.modelName, broken.modelName], messages: [{ role: 'user', content: 'What is six times seven?' }], temperature: 0 }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await res.text());
    expect(events[0]!.event).toBe('session');
    expect(events.at(-1)!.event).toBe('end');
    const text = (model: string) => events.filter((e) => e.event === 'delta' && e.data.model === model).map((e) => e.data.text).join('');
    expect(text(route.modelName)).toBe('Forty-two.');
    expect(text(second.modelName)).toBe('42');
    const done = (model: string) => events.find((e) => e.event === 'done' && e.data.model === model)!.data.result;
    expect(done(route.modelName)).toMatchObject({ status: 'succeeded', output: 'Forty-two.', inputTokens: 12, outputTokens: 3, error: null });
    expect(done(route.modelName).ttftMs).toEqual(expect.any(Number));
    expect(done(route.modelName).latencyMs).toBeGreaterThanOrEqual(done(route.modelName).ttftMs);
    expect(done(second.modelName)).toMatchObject({ status: 'succeeded', output: '42', outputTokens: 2 });
    expect(done(broken.modelName)).toMatchObject({ status: 'failed', output: null, error: expect.stringMatching(/^5\d\d: /) });
    // The two streams were interleaved on the one SSE stream, not sent one after the other.
    const order = events.filter((e) => e.event === 'delta').map((e) => e.data.model);
    expect(order.indexOf(second.modelName)).toBeLessThan(order.lastIndexOf(route.modelName));
    const session = events.at(-1)!.data.session as { id: string; results: { model: string; cost: string | null }[] };
    expect(session.results.map((r) => r.model)).toEqual([route.modelName, second.modelName, broken.modelName]);

    // Saved and listable; costs arrive from metering (12 x 0.000003 + 3 x 0.000015 = 0.000081; 12 x 0.000001 + 2 x 0.000002 = 0.000016).
    const deadline = Date.now() + 20_000;
    let saved = await adminCall<{ results: { model: string; cost: string | null; status: string }[] }>(product, 'GET', `/admin/playground/sessions/${session.id}`);
    while (saved.results.slice(0, 2).some((r) => r.cost === null) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      saved = await adminCall(product, 'GET', `/admin/playground/sessions/${session.id}`);
    }
    expect(saved.results.map((r) => r.cost)).toEqual(['0.000081', '0.000016', null]);
    const list = await adminCall<{ items: { id: string }[] }>(product, 'GET', '/admin/playground/sessions');
    expect(list.items[0]!.id).toBe(session.id);

    fake.script(route.upstreamModel, { kind: 'stream', content: 'Again.' });
    fake.script(second.upstreamModel, { kind: 'stream', content: 'Also.' });
    fake.script(broken.upstreamModel, { kind: 'stream', content: 'Fixed.' });
    const rerun = await fetch(`${product.url}/admin/playground/sessions/${session.id}/rerun`, { method: 'POST', headers: { authorization: `Bearer ${product.adminKey}` } });
    const rerunEvents = parseSse(await rerun.text());
    const end = rerunEvents.at(-1)!;
    expect(end.event).toBe('end');
    expect(end.data.session).toMatchObject({ rerunOf: session.id });
    expect(end.data.session.results.map((r: { output: string }) => r.output)).toEqual(['Again.', 'Also.', 'Fixed.']);
  }, 60_000);

  it('refuses a session with repeated or no models as validation_failed before streaming', async () => {
    const res = await fetch(`${product.url}/admin/playground/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ models: ['a', 'a'], messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { field: string }[] } };
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details.map((d) => d.field)).toEqual(['models']);
  });
});

function parseSse(text: string): { event: string; data: any }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1];
      return { event, data: data ? JSON.parse(data) : undefined };
    });
}
