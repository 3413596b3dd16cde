import { adminCall } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';

interface KeyView {
  id: string;
  key: string;
  name: string;
  role: string;
  owner: { kind: string; name: string; email?: string } | null;
  budget: { amount: string; currency: string; period: string; mode: string; spent: string | null } | null;
  allowedModels: string[] | null;
  requestsPerMinute: number | null;
  expiresAt: string | null;
  cacheTtlSeconds: number | null;
}

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; param?: string }; choices?: unknown[] };
}

/**
 * Issue 15.5 through the running product: a key's owner (shown in views, read by header
 * templates), PATCH /admin/gateway-keys/{id} live on every replica within a second, and the one
 * rule for the routes an admin key may call.
 */
describe('gateway keys: owner, edits on every replica, the admin-key rule', () => {
  let fake: FakeOpenAI;
  let product: Product;

  const chat = async (url: string, key: string, model = 'keys-model'): Promise<Answer> => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  };

  const patch = (id: string, body: unknown) =>
    fetch(`${product.url}/admin/gateway-keys/${id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  /** Polls every replica until `ok` holds for the answer there; the time it took. */
  const onEveryReplica = async (key: string, ok: (a: Answer) => boolean, model?: string): Promise<number> => {
    const started = Date.now();
    for (const url of product.gatewayUrls) {
      for (;;) {
        if (ok(await chat(url, key, model))) break;
        if (Date.now() - started > 5000) throw new Error(`${url} did not apply the change`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return Date.now() - started;
  };

  /**
   * Budgets are spent per UTC day or month: a test that spends one and then checks the spend would
   * see it reset if the period ended in between, so it starts with at least a minute of the period left.
   */
  const awaitPeriodRoom = async (period: 'day' | 'month', ms = 60_000) => {
    const now = new Date();
    const end = period === 'day' ? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) : Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    if (end - now.getTime() < ms) await new Promise((r) => setTimeout(r, end - now.getTime() + 100));
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI({ defaultBehaviour: { kind: 'completion', usage: { promptTokens: 5, completionTokens: 5 } } });
    product = await startProduct({ gatewayReplicas: 2 });
    if (product.mode === 'distributed') expect(product.gatewayUrls).toHaveLength(2);
    const conn = await adminCall<{ id: string }>(product, 'POST', '/admin/connections', {
      name: 'keys-conn',
      adapter: 'openai-compatible',
      baseUrl: fake.url,
      apiKey: 'sk-up',
      headers: { 'X-Caller': '{{user}}', 'X-Caller-Email': '{{email}}' },
    });
    for (const name of ['keys-model', 'other-model']) {
      await adminCall(product, 'POST', '/admin/provider-models', { name, connectionId: conn.id, upstreamModel: `${name}-up` });
    }
    // 5 input + 5 output tokens a call: 0.015 USD.
    await adminCall(product, 'POST', '/admin/model-definitions', {
      name: 'keys-model-price',
      matchPattern: '^keys-model-up$',
      prices: { input: '0.001', output: '0.002' },
      effectiveFrom: '2024-01-01T00:00:00Z',
    });
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  beforeEach(() => fake.reset());

  it('a key records its owner at creation; views show it and header templates send it as {{user}} / {{email}}', async () => {
    const created = await adminCall<KeyView>(product, 'POST', '/admin/gateway-keys', { name: 'owned', owner: { kind: 'user', name: 'Ada Lovelace', email: 'ada@example.com' } });
    expect(created.owner).toEqual({ kind: 'user', name: 'Ada Lovelace', email: 'ada@example.com' });
    expect((await adminCall<KeyView>(product, 'GET', `/admin/gateway-keys/${created.id}`)).owner).toEqual(created.owner);
    await onEveryReplica(created.key, (a) => a.status === 200);
    expect(fake.requests.at(-1)!.headers['x-caller']).toBe('Ada Lovelace');
    expect(fake.requests.at(-1)!.headers['x-caller-email']).toBe('ada@example.com');

    const bad = await fetch(`${product.url}/admin/gateway-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bad-owner', owner: { kind: 'robot', name: 'x', email: 'nope' } }),
    });
    expect(bad.status).toBe(400);
    const err = ((await bad.json()) as { error: { code: string; details: { field: string }[] } }).error;
    expect(err.code).toBe('validation_failed');
    expect(err.details.map((d) => d.field).sort()).toEqual(['owner.email', 'owner.kind']);
  });

  it('PATCH edits name, owner, allowed models, limits, expiry, budget and cache TTL; every replica applies it within a second', async () => {
    const created = await adminCall<KeyView>(product, 'POST', '/admin/gateway-keys', { name: 'editable' });
    await onEveryReplica(created.key, (a) => a.status === 200, 'other-model');

    const res = await patch(created.id, {
      name: 'edited',
      owner: { kind: 'service', name: 'search-svc' },
      allowedModels: ['keys-model'],
      requestsPerMinute: 1000,
      budget: { amount: '12.50', period: 'month', mode: 'soft' },
      cacheTtlSeconds: 120,
    });
    expect(res.status).toBe(200);
    const view = (await res.json()) as KeyView;
    expect(view).toMatchObject({
      name: 'edited',
      owner: { kind: 'service', name: 'search-svc' },
      allowedModels: ['keys-model'],
      requestsPerMinute: 1000,
      budget: { amount: '12.50', currency: 'USD', period: 'month', mode: 'soft' },
      cacheTtlSeconds: 120,
    });
    const took = await onEveryReplica(created.key, (a) => a.status === 403 && a.body.error?.code === 'model_not_allowed', 'other-model');
    expect(took).toBeLessThan(1000 * product.gatewayUrls.length);
    expect((await chat(product.gatewayUrls.at(-1)!, created.key)).status).toBe(200);
    expect(fake.requests.at(-1)!.headers['x-caller']).toBe('search-svc');

    // null clears; an expiry in the past stops the key everywhere.
    const cleared = (await (await patch(created.id, { allowedModels: null, budget: null, cacheTtlSeconds: null, expiresAt: '2020-01-01T00:00:00Z' })).json()) as KeyView;
    expect(cleared).toMatchObject({ allowedModels: null, budget: null, cacheTtlSeconds: null, expiresAt: '2020-01-01T00:00:00.000Z', name: 'edited' });
    await onEveryReplica(created.key, (a) => a.status === 401 && a.body.error?.code === 'key_expired');
    await patch(created.id, { expiresAt: null });
    await onEveryReplica(created.key, (a) => a.status === 200, 'other-model');

    const audit = await adminCall<{ items: { resourceId: string; outcome: string }[] }>(product, 'GET', `/admin/audit-log?action=gateway_key.updated&limit=100`);
    expect(audit.items.filter((e) => e.resourceId === created.id && e.outcome === 'succeeded')).toHaveLength(3);
  });

  it('PATCH refuses bad input naming the field, an unknown key (404) and a revoked key (409)', async () => {
    const created = await adminCall<KeyView>(product, 'POST', '/admin/gateway-keys', { name: 'patch-bad' });
    const bad = await patch(created.id, { requestsPerMinute: 0, budget: { amount: '-1', period: 'week', mode: 'hard' } });
    expect(bad.status).toBe(400);
    const fields = ((await bad.json()) as { error: { details: { field: string }[] } }).error.details.map((d) => d.field).sort();
    expect(fields).toEqual(['budget.amount', 'budget.period', 'requestsPerMinute']);
    expect((await patch('key_unknown', { name: 'x' })).status).toBe(404);
    await adminCall(product, 'DELETE', `/admin/gateway-keys/${created.id}`);
    const revoked = await patch(created.id, { name: 'again' });
    expect(revoked.status).toBe(409);
  });

  it('the admin-key rule: an admin key calls /admin and /v1 (metered like a client key); a client key is refused on /admin with 403 forbidden', async () => {
    const admin = await adminCall<KeyView>(product, 'POST', '/admin/gateway-keys', { name: 'second-admin', role: 'admin' });
    const client = await adminCall<KeyView>(product, 'POST', '/admin/gateway-keys', { name: 'plain-client' });
    await onEveryReplica(admin.key, (a) => a.status === 200);
    expect(fake.requests).not.toHaveLength(0);
    await onEveryReplica(client.key, (a) => a.status === 200); // known everywhere before /admin is asked
    const asClient = await fetch(`${product.url}/admin/gateway-keys`, { headers: { authorization: `Bearer ${client.key}` } });
    expect(asClient.status).toBe(403);
    expect(((await asClient.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('/v1 only') });
    const asAdmin = await fetch(`${product.url}/admin/gateway-keys`, { headers: { authorization: `Bearer ${admin.key}` } });
    expect(asAdmin.status).toBe(200);
    // The documented rule is the one Swagger shows.
    const docs = (await (await fetch(`${product.url}/docs-json`)).json()) as { components: { schemas: Record<string, { properties: Record<string, { description?: string }> }> } };
    expect(docs.components.schemas.GatewayKeyView!.properties.role!.description).toContain('admin keys call /admin and also /v1');
  });

  describe('spend budgets, settled from metering', () => {
    const messages = (url: string, key: string) =>
      fetch(`${url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'keys-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      });

    it('a spent hard budget stops the key on every replica with 429 budget_exceeded naming the period and reset, in both client formats', async () => {
      await awaitPeriodRoom('day');
      const created = await adminCall<KeyView>(product, 'POST', '/admin/gateway-keys', { name: 'hard-budget', budget: { amount: '0.02', period: 'day', mode: 'hard' } });
      expect(created.budget).toEqual({ amount: '0.02', currency: 'USD', period: 'day', mode: 'hard', spent: '0' });
      await onEveryReplica(created.key, (a) => a.status === 200);
      expect((await chat(product.url, created.key)).status).toBe(200); // 0.03 USD spent
      await onEveryReplica(created.key, (a) => a.status === 429 && a.body.error?.code === 'budget_exceeded');
      // The view shows the spend: every call the provider answered, 0.015 USD each (calls admitted
      // before the spend was known overshoot the budget: README, How spend is counted).
      const expected = (fake.requests.length * 0.015).toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
      let shown: string | null | undefined;
      for (let i = 0; i < 100 && shown !== expected; i++) {
        shown = (await adminCall<KeyView>(product, 'GET', `/admin/gateway-keys/${created.id}`)).budget!.spent;
        if (shown !== expected) await new Promise((r) => setTimeout(r, 50));
      }
      expect(shown).toBe(expected);
      const upstreamCalls = fake.requests.length;
      const tomorrow = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1)).toISOString();
      for (const url of product.gatewayUrls) {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${created.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'keys-model', messages: [{ role: 'user', content: 'hi' }] }),
        });
        expect(res.status).toBe(429);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        const error = ((await res.json()) as Answer['body']).error!;
        expect(error.code).toBe('budget_exceeded');
        expect(error.message).toContain('daily budget of 0.02 USD is spent');
        expect(error.message).toContain(`resets at ${tomorrow}`);
        const anthropic = await messages(url, created.key);
        expect(anthropic.status).toBe(429);
        const body = (await anthropic.json()) as { type: string; error: { type: string; message: string } };
        expect(body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error', message: expect.stringContaining('daily budget of 0.02 USD') } });
      }
      expect(fake.requests).toHaveLength(upstreamCalls);
      // Raising the budget lets the key through again, on every replica.
      await patch(created.id, { budget: { amount: '100', period: 'day', mode: 'hard' } });
      await onEveryReplica(created.key, (a) => a.status === 200);
    }, 60_000);

    it('a soft budget lets calls through and writes one audit entry once crossed, not one per call', async () => {
      await awaitPeriodRoom('month');
      const created = await adminCall<KeyView>(product, 'POST', '/admin/gateway-keys', { name: 'soft-budget', budget: { amount: '0.01', period: 'month', mode: 'soft' } });
      await onEveryReplica(created.key, (a) => a.status === 200); // 0.015 per replica: crossed
      const entries = async () =>
        (await adminCall<{ items: { resourceId: string; reason: string; outcome: string }[] }>(product, 'GET', '/admin/audit-log?action=gateway_key.budget_exceeded&limit=100')).items.filter(
          (e) => e.resourceId === created.id,
        );
      const deadline = Date.now() + 20_000;
      while ((await entries()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 4; i++) for (const url of product.gatewayUrls) expect((await chat(url, created.key)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 3000)); // the later calls' spend reaches every replica too
      const written = await entries();
      expect(written).toHaveLength(1);
      expect(written[0]!.reason).toContain('soft month budget of 0.01 USD crossed');
    }, 60_000);
  });
});
