import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import pg from 'pg';
import { freePort } from '#libs/db';
import { startFakeAnthropic, startFakeOpenAI, type FakeAnthropic, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { adminCall } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

interface ConnectionBody {
  id: string;
  name: string;
  slug: string;
  adapter: string;
  baseUrl: string;
  apiKeyMasked: string | null;
  settings: Record<string, unknown>;
  secretsMasked: Record<string, string>;
  status: 'active' | 'inactive' | 'error';
  lastError: string | null;
  lastErrorAt: string | null;
}
interface ErrorBody {
  error: { code: string; message: string; details?: { field: string; messages: string[] }[] };
}
interface TestResult {
  ok: boolean;
  text?: string;
  errorKind?: string;
  message?: string;
  latencyMs: number;
  status: string;
}

/**
 * Typed connections, editing, status and the connection test (issues 13.1 and 13.4, 16.1 and 16.2),
 * through the product's admin API and /v1 with the official openai client, against the fakes.
 * Every secret is a random canary of this run, so "not in any listing or log" means something.
 */
describe('typed connections, editing, status and the connection test', () => {
  const openaiKey = `sk-typed-${randomBytes(12).toString('hex')}`;
  const rotatedKey = `sk-rotated-${randomBytes(12).toString('hex')}`;
  const anthropicKey = `sk-ant-typed-${randomBytes(12).toString('hex')}`;
  let fakeOpenAI: FakeOpenAI;
  let fakeAnthropic: FakeAnthropic;
  let product: Product;
  let clientKey: string;
  let seq = 0;
  /** Keys given to connections the provider refuses: secrets too. */
  const wrongKeys: string[] = [];

  async function send(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${product.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${product.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
  }

  async function createConnection(body: Record<string, unknown>): Promise<ConnectionBody> {
    return adminCall<ConnectionBody>(product, 'POST', '/admin/connections', { name: `typed-${++seq}-${Date.now()}`, ...body });
  }

  /** A provider model on the connection, named for the client. */
  async function modelOn(connectionId: string, upstreamModel = 'gpt-4o-mini'): Promise<string> {
    const name = `typed-model-${++seq}`;
    await adminCall(product, 'POST', '/admin/provider-models', { name, connectionId, upstreamModel });
    return name;
  }

  async function chat(model: string, gatewayUrl = product.url): Promise<{ status: number; code?: string; text?: string }> {
    const client = new OpenAI({ apiKey: clientKey, baseURL: `${gatewayUrl}/v1`, maxRetries: 0 });
    try {
      const answer = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
      return { status: 200, text: answer.choices[0]?.message.content ?? '' };
    } catch (err) {
      if (err instanceof OpenAI.APIError) return { status: err.status ?? 0, code: String(err.code) };
      throw err;
    }
  }

  /**
   * A change reaches every replica within a second (a change event); the tests allow twice that, as
   * the time also holds their own calls, which a busy 2-core machine (CI) can slow to hundreds of ms.
   * A change left to the 60 s safety refresh still fails.
   */
  const PROPAGATION_MS = 2000;

  /** Polls until `probe` holds; fails after `timeoutMs` with the last value. */
  async function within<T>(timeoutMs: number, probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = await probe();
    while (!done(last)) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 20));
      last = await probe();
    }
    return last;
  }

  beforeAll(async () => {
    fakeOpenAI = await startFakeOpenAI({ apiKey: openaiKey });
    fakeAnthropic = await startFakeAnthropic({ apiKey: anthropicKey });
    // Distributed: a second gateway replica, which must see every change within a second too.
    product = await startProduct({ env: { LOG_LEVEL: 'debug' }, gatewayReplicas: 2 });
    clientKey = (await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: 'typed-client' })).key;
    if (product.mode === 'distributed') expect(product.gatewayUrls).toHaveLength(2);
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fakeOpenAI?.close();
    await fakeAnthropic?.close();
  }, 60_000);

  beforeEach(() => {
    fakeOpenAI.reset();
    fakeAnthropic.reset();
    fakeOpenAI.expectApiKey(openaiKey);
  });

  describe('typed settings', () => {
    it("creates an openai connection with organization and project, lists them, and sends them as OpenAI's headers", async () => {
      const created = await createConnection({ adapter: 'openai', baseUrl: fakeOpenAI.url, apiKey: openaiKey, settings: { organization: 'org-typed', project: 'proj_typed' } });
      expect(created).toMatchObject({ adapter: 'openai', settings: { organization: 'org-typed', project: 'proj_typed' }, secretsMasked: { apiKey: `••••${openaiKey.slice(-4)}` }, status: 'active' });
      const model = await modelOn(created.id);
      const answer = await within(PROPAGATION_MS, () => chat(model), (r) => r.status !== 404);
      expect(answer.status).toBe(200);
      const [request] = await fakeOpenAI.waitForRequests(1);
      expect(request!.headers).toMatchObject({ 'openai-organization': 'org-typed', 'openai-project': 'proj_typed', authorization: `Bearer ${openaiKey}` });
    });

    it('creates an anthropic connection whose anthropicVersion is the header the provider gets', async () => {
      const created = await createConnection({ adapter: 'anthropic', baseUrl: fakeAnthropic.url, apiKey: anthropicKey, settings: { anthropicVersion: '2023-01-01' } });
      expect(created.settings).toEqual({ anthropicVersion: '2023-01-01', defaultMaxTokens: 4096 });
      const model = await modelOn(created.id, 'claude-haiku-4-5-20251001');
      expect((await within(PROPAGATION_MS, () => chat(model), (r) => r.status !== 404)).status).toBe(200);
      const [request] = await fakeAnthropic.waitForRequests(1);
      expect(request!.headers['anthropic-version']).toBe('2023-01-01');
      expect(request!.headers['x-api-key']).toBe(anthropicKey);
    });

    it('lets an openai-compatible connection go without a key', async () => {
      const created = await createConnection({ adapter: 'openai-compatible', baseUrl: fakeOpenAI.url });
      expect(created).toMatchObject({ apiKeyMasked: null, secretsMasked: {} });
    });

    it('sends an openai-compatible key in the header the connection names (X-API-Key), or no credentials with authMode none', async () => {
      fakeOpenAI.expectApiKey(undefined);
      const viaHeader = await createConnection({ adapter: 'openai-compatible', baseUrl: fakeOpenAI.url, apiKey: 'litellm-key-1', settings: { authMode: 'header', authHeader: 'X-API-Key' } });
      expect(viaHeader).toMatchObject({ settings: { authMode: 'header', authHeader: 'X-API-Key' }, secretsMasked: { apiKey: '••••ey-1' } });
      const none = await createConnection({ adapter: 'openai-compatible', baseUrl: fakeOpenAI.url, settings: { authMode: 'none' } });
      for (const [connection, expected] of [
        [viaHeader, { 'x-api-key': 'litellm-key-1', authorization: undefined }],
        [none, { 'x-api-key': undefined, authorization: undefined }],
      ] as const) {
        fakeOpenAI.reset();
        const model = await modelOn(connection.id);
        expect((await within(PROPAGATION_MS, () => chat(model), (r) => r.status !== 404)).status).toBe(200);
        const [request] = await fakeOpenAI.waitForRequests(1);
        expect({ 'x-api-key': request!.headers['x-api-key'], authorization: request!.headers.authorization }).toEqual(expected);
      }
    });

    it.each([
      ['a missing key', { adapter: 'openai', baseUrl: 'https://api.openai.com/v1' }, 'apiKey', 'is required'],
      ['a malformed setting', { adapter: 'openai', apiKey: 'sk-x', settings: { project: 42 } }, 'settings.project', 'must be a string'],
      ['an unknown setting', { adapter: 'openai', apiKey: 'sk-x', settings: { organisation: 'org-1' } }, 'settings.organisation', 'unknown setting'],
      ['a malformed integer', { adapter: 'anthropic', apiKey: 'sk-x', settings: { defaultMaxTokens: 'lots' } }, 'settings.defaultMaxTokens', 'must be an integer'],
      ['a malformed organization id', { adapter: 'openai', apiKey: 'sk-x', settings: { organization: 'acme corp' } }, 'settings.organization', 'is not a valid value'],
      ['a custom auth header without its name', { adapter: 'openai-compatible', baseUrl: 'http://vllm:8000/v1', apiKey: 'k', settings: { authMode: 'header' } }, 'settings.authHeader', 'is required with authMode header'],
      ['an auth mode of another kind', { adapter: 'openai-compatible', baseUrl: 'http://vllm:8000/v1', settings: { authMode: 'basic' } }, 'settings.authMode', 'must be one of bearer, header, none'],
      ['a setting that is not a value', { adapter: 'openai', apiKey: 'sk-x', settings: { project: { nested: true } } }, 'settings', 'must be an object of setting names'],
    ])('refuses %s with 400 validation_failed naming the field', async (_what, body, field, message) => {
      const res = await send('POST', '/admin/connections', { name: `refused-${++seq}`, ...body });
      expect(res.status).toBe(400);
      const error = (res.json as ErrorBody).error;
      expect(error.code).toBe('validation_failed');
      expect(error.details).toEqual(expect.arrayContaining([{ field, messages: [expect.stringContaining(message)] }]));
    });
  });

  describe('masking and reveal', () => {
    it('never shows a secret in a listing, a get or a log line; reveal shows them all', async () => {
      const headerSecret = `hv-${randomBytes(10).toString('hex')}`;
      const created = await createConnection({ adapter: 'openai', baseUrl: fakeOpenAI.url, apiKey: openaiKey, headers: { 'x-team-secret': headerSecret } });
      const list = await send('GET', '/admin/connections?limit=200');
      const got = await send('GET', `/admin/connections/${created.id}`);
      for (const text of [JSON.stringify(list.json), JSON.stringify(got.json)]) {
        expect(text).toContain(created.id);
        expect(text).not.toContain(openaiKey);
        expect(text).not.toContain(headerSecret);
      }
      expect(got.json).toMatchObject({ apiKeyMasked: `••••${openaiKey.slice(-4)}`, secretsMasked: { apiKey: `••••${openaiKey.slice(-4)}` } });
      const revealed = await adminCall<{ apiKey: string; secrets: Record<string, string>; headers: Record<string, string> }>(product, 'POST', `/admin/connections/${created.id}/reveal`);
      expect(revealed).toMatchObject({ apiKey: openaiKey, secrets: { apiKey: openaiKey }, headers: { 'x-team-secret': headerSecret } });
      expect(product.output()).not.toContain(openaiKey);
      expect(product.output()).not.toContain(headerSecret);
      if (product.databaseUrl) {
        const rows = await sql(product.databaseUrl, `SELECT outcome FROM vault.audit_log WHERE action = 'connection.revealed' AND target_id = $1`, [created.id]);
        expect(rows).toEqual([{ outcome: 'succeeded' }]);
      }
    });
  });

  describe('editing', () => {
    it('keeps the stored key when a PATCH leaves it out or blank, and the next call uses a new one within a second', async () => {
      const created = await createConnection({ adapter: 'openai', baseUrl: fakeOpenAI.url, apiKey: openaiKey, settings: { organization: 'org-before' } });
      const model = await modelOn(created.id);
      expect((await within(PROPAGATION_MS, () => chat(model), (r) => r.status !== 404)).status).toBe(200);

      const renamed = await adminCall<ConnectionBody>(product, 'PATCH', `/admin/connections/${created.id}`, { name: `${created.name}-renamed`, apiKey: '', settings: { organization: 'org-after' } });
      expect(renamed).toMatchObject({ name: `${created.name}-renamed`, apiKeyMasked: `••••${openaiKey.slice(-4)}`, settings: { organization: 'org-after' } });
      await expect(adminCall(product, 'POST', `/admin/connections/${created.id}/reveal`)).resolves.toMatchObject({ apiKey: openaiKey });
      await within(PROPAGATION_MS, async () => {
        fakeOpenAI.reset();
        await chat(model);
        return fakeOpenAI.requests[0]?.headers['openai-organization'];
      }, (org) => org === 'org-after');

      // The provider now wants the new key: calls fail until the PATCH reaches the gateway, then succeed.
      fakeOpenAI.expectApiKey(rotatedKey);
      const patchedAt = Date.now();
      await adminCall(product, 'PATCH', `/admin/connections/${created.id}`, { apiKey: rotatedKey });
      for (const gatewayUrl of product.gatewayUrls) {
        const answer = await within(PROPAGATION_MS, () => chat(model, gatewayUrl), (r) => r.status === 200);
        expect(answer.status).toBe(200);
        expect(Date.now() - patchedAt).toBeLessThan(PROPAGATION_MS);
        expect(fakeOpenAI.requests.at(-1)!.headers.authorization).toBe(`Bearer ${rotatedKey}`);
      }
    });

    it('refuses to change the adapter with 400 saying so, and changes nothing', async () => {
      const created = await createConnection({ adapter: 'openai', baseUrl: fakeOpenAI.url, apiKey: openaiKey });
      const res = await send('PATCH', `/admin/connections/${created.id}`, { adapter: 'anthropic', name: 'not-applied' });
      expect(res.status).toBe(400);
      expect((res.json as ErrorBody).error).toMatchObject({ code: 'validation_failed', details: [{ field: 'adapter', messages: [expect.stringContaining('adapter cannot change')] }] });
      await expect(adminCall(product, 'GET', `/admin/connections/${created.id}`)).resolves.toMatchObject({ name: created.name, adapter: 'openai' });
    });

    it('re-validates settings merged with the stored ones, naming the field', async () => {
      const created = await createConnection({ adapter: 'anthropic', baseUrl: fakeAnthropic.url, apiKey: anthropicKey });
      const res = await send('PATCH', `/admin/connections/${created.id}`, { settings: { defaultMaxTokens: 1.5 } });
      expect(res.status).toBe(400);
      expect((res.json as ErrorBody).error.details).toEqual([{ field: 'settings.defaultMaxTokens', messages: ['must be an integer'] }]);
      const patched = await adminCall<ConnectionBody>(product, 'PATCH', `/admin/connections/${created.id}`, { settings: { anthropicBeta: 'tools-2024-04-04' } });
      expect(patched.settings).toEqual({ anthropicVersion: '2023-06-01', defaultMaxTokens: 4096, anthropicBeta: 'tools-2024-04-04' });
    });

    it('answers 404 not_found for a PATCH of an unknown connection', async () => {
      const res = await send('PATCH', '/admin/connections/conn_doesnotexist', { name: 'x' });
      expect(res.status).toBe(404);
      expect((res.json as ErrorBody).error.code).toBe('not_found');
    });
  });

  describe('status', () => {
    it('stops routing an inactive connection at once (404 model_not_found, no upstream call), lists it by status, and routes it again when active', async () => {
      const created = await createConnection({ adapter: 'openai', baseUrl: fakeOpenAI.url, apiKey: openaiKey });
      const model = await modelOn(created.id);
      expect((await within(PROPAGATION_MS, () => chat(model), (r) => r.status !== 404)).status).toBe(200);

      await adminCall(product, 'PATCH', `/admin/connections/${created.id}`, { status: 'inactive' });
      for (const gatewayUrl of product.gatewayUrls) {
        const refused = await within(PROPAGATION_MS, () => chat(model, gatewayUrl), (r) => r.status === 404);
        expect(refused.code).toBe('model_not_found');
      }
      fakeOpenAI.reset();
      expect((await chat(model)).status).toBe(404);
      expect(fakeOpenAI.requests).toHaveLength(0);
      const inactive = await adminCall<{ items: ConnectionBody[] }>(product, 'GET', '/admin/connections?status=inactive&limit=200');
      expect(inactive.items.map((c) => c.id)).toContain(created.id);
      expect(inactive.items.every((c) => c.status === 'inactive')).toBe(true);

      await adminCall(product, 'PATCH', `/admin/connections/${created.id}`, { status: 'active' });
      expect((await within(PROPAGATION_MS, () => chat(model), (r) => r.status === 200)).status).toBe(200);
    });

    it('refuses an unknown status filter with 400 naming status', async () => {
      const res = await send('GET', '/admin/connections?status=broken');
      expect(res.status).toBe(400);
      expect((res.json as ErrorBody).error.details).toEqual([expect.objectContaining({ field: 'status' })]);
    });

    it('makes the models of a deleted connection unroutable at once', async () => {
      const created = await createConnection({ adapter: 'openai', baseUrl: fakeOpenAI.url, apiKey: openaiKey });
      const model = await modelOn(created.id);
      expect((await within(PROPAGATION_MS, () => chat(model), (r) => r.status !== 404)).status).toBe(200);
      await adminCall(product, 'DELETE', `/admin/connections/${created.id}`);
      for (const gatewayUrl of product.gatewayUrls) {
        const refused = await within(PROPAGATION_MS, () => chat(model, gatewayUrl), (r) => r.status === 404);
        expect(refused.code).toBe('model_not_found');
      }
    });
  });

  describe('the connection test', () => {
    it('answers ok with the text and the latency, and sets the connection active', async () => {
      const created = await createConnection({ adapter: 'openai', baseUrl: fakeOpenAI.url, apiKey: openaiKey });
      fakeOpenAI.enqueue({ kind: 'completion', content: 'Yes, reachable.' });
      const result = await adminCall<TestResult>(product, 'POST', `/admin/connections/${created.id}/test`, { model: 'gpt-4o-mini' });
      expect(result).toEqual({ ok: true, text: 'Yes, reachable.', latencyMs: expect.any(Number), status: 'active' });
      const [request] = await fakeOpenAI.waitForRequests(1);
      expect(request!.body).toMatchObject({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: expect.any(String) }] });
    });

    it("answers ok: false with errorKind auth for a key the provider refuses, and sets status error with the provider's message", async () => {
      const wrongKey = `sk-wrong-${randomBytes(10).toString('hex')}`;
      wrongKeys.push(wrongKey);
      const created = await createConnection({ adapter: 'openai', baseUrl: fakeOpenAI.url, apiKey: wrongKey });
      const result = await adminCall<TestResult>(product, 'POST', `/admin/connections/${created.id}/test`, { model: 'gpt-4o-mini' });
      expect(result).toMatchObject({ ok: false, errorKind: 'auth', message: expect.stringContaining('Incorrect API key'), latencyMs: expect.any(Number), status: 'error' });
      expect(JSON.stringify(result)).not.toContain(wrongKey);
      const got = await adminCall<ConnectionBody>(product, 'GET', `/admin/connections/${created.id}`);
      expect(got).toMatchObject({ status: 'error', lastError: expect.stringContaining('auth'), lastErrorAt: expect.any(String) });
      const errors = await adminCall<{ items: ConnectionBody[] }>(product, 'GET', '/admin/connections?status=error&limit=200');
      expect(errors.items.map((c) => c.id)).toContain(created.id);

      // Fixed, tested again: active, the error cleared.
      await adminCall(product, 'PATCH', `/admin/connections/${created.id}`, { apiKey: openaiKey });
      const fixed = await within(PROPAGATION_MS, () => adminCall<TestResult>(product, 'POST', `/admin/connections/${created.id}/test`, { model: 'gpt-4o-mini' }), (r) => r.ok);
      expect(fixed.status).toBe('active');
      await expect(adminCall(product, 'GET', `/admin/connections/${created.id}`)).resolves.toMatchObject({ status: 'active', lastError: null });
    });

    it('answers ok: false with errorKind upstream_unreachable for a host that does not answer', async () => {
      const port = await freePort();
      const created = await createConnection({ adapter: 'openai-compatible', baseUrl: `http://127.0.0.1:${port}/v1` });
      const result = await adminCall<TestResult>(product, 'POST', `/admin/connections/${created.id}/test`, { model: 'any-model' });
      expect(result).toMatchObject({ ok: false, errorKind: 'upstream_unreachable', status: 'error' });
    });

    it('refuses a test without a model, naming the field, and answers 404 for an unknown connection', async () => {
      const created = await createConnection({ adapter: 'openai', baseUrl: fakeOpenAI.url, apiKey: openaiKey });
      const res = await send('POST', `/admin/connections/${created.id}/test`, {});
      expect(res.status).toBe(400);
      expect((res.json as ErrorBody).error.details).toEqual([expect.objectContaining({ field: 'model' })]);
      const unknown = await send('POST', '/admin/connections/conn_doesnotexist/test', { model: 'm' });
      expect(unknown.status).toBe(404);
    });
  });

  it('wrote no secret of this run to any log line (LOG_LEVEL debug), after every create, PATCH, reveal and test above', () => {
    const output = product.output();
    expect(output.length).toBeGreaterThan(0);
    for (const secret of [openaiKey, rotatedKey, anthropicKey, ...wrongKeys]) expect(output).not.toContain(secret);
  });

  it('documents the new routes and fields in /docs-json', async () => {
    const res = await fetch(`${product.url}/docs-json`);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
    expect(doc.paths['/admin/connections/{id}']).toHaveProperty('patch');
    expect(doc.paths['/admin/connections/{id}/test']).toHaveProperty('post');
    expect(Object.keys(doc.components.schemas.ConnectionView!.properties!)).toEqual(expect.arrayContaining(['slug', 'settings', 'secretsMasked', 'status', 'lastError', 'lastErrorAt']));
    expect(Object.keys(doc.components.schemas.CreateConnectionDto!.properties!)).toEqual(expect.arrayContaining(['settings', 'slug']));
    expect(Object.keys(doc.components.schemas.UpdateConnectionDto!.properties!)).toEqual(expect.arrayContaining(['name', 'apiKey', 'settings', 'status']));
    expect(doc.components.schemas.ConnectionTestResultView).toBeDefined();
  });
});

async function sql(databaseUrl: string, text: string, values: unknown[]): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}
