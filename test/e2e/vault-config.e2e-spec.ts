import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { adminCall } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

interface ConnectionBody {
  id: string;
  name: string;
  status: 'active' | 'inactive' | 'error';
  lastError: string | null;
  managedBy: string | null;
  secretEnvVars: Record<string, string>;
  settings: Record<string, unknown>;
  apiKeyMasked: string | null;
}
interface ModelBody {
  id: string;
  name: string;
  managedBy: string | null;
  contextWindow: number | null;
  requestsPerMinute: number | null;
  defaultParameters: Record<string, unknown>;
}
interface ImportReport {
  found: boolean;
  files: { path: string; status: string; errors?: { field: string; message: string }[]; models?: { name: string; status: string }[] }[];
}
interface AuditEntry {
  id: string;
  service: string;
  actor: { keyId: string; name: string };
  action: string;
  resourceType: string;
  resourceId: string | null;
  outcome: string;
  at: string;
}

const KEY_1 = randomBytes(32).toString('base64');
const KEY_2 = randomBytes(32).toString('base64');

/**
 * Issue 16 items 3-7 through the running product: keys from the environment, configuration as
 * code, the audit log, master-key rotation while calls run, and header templates, with the
 * official openai client against the fake OpenAI upstream.
 */
describe('credential vault: keys from the environment, configuration as code, audit log, rotation, header templates', () => {
  const envKey = `sk-env-${randomBytes(12).toString('hex')}`;
  let fake: FakeOpenAI;
  let product: Product;
  let configDir: string;
  let keyFile: string;
  let clientKey: string;

  async function send(method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`${product.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${product.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  async function chat(model: string): Promise<{ status: number; code?: string; message?: string }> {
    const client = new OpenAI({ apiKey: clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    try {
      await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
      return { status: 200 };
    } catch (err) {
      if (err instanceof OpenAI.APIError) return { status: err.status ?? 0, code: String(err.code), message: err.message };
      throw err;
    }
  }

  /** An imported or edited model reaches the gateway as a change event: a second normally, more on a busy machine. */
  const ROUTABLE_MS = 5000;

  async function within<T>(timeoutMs: number, probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = await probe();
    while (!done(last)) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 50));
      last = await probe();
    }
    return last;
  }

  async function connectionNamed(name: string): Promise<ConnectionBody | undefined> {
    const page = await adminCall<{ items: ConnectionBody[] }>(product, 'GET', '/admin/connections?limit=200');
    return page.items.find((c) => c.name === name);
  }

  async function modelNamed(name: string): Promise<ModelBody | undefined> {
    const page = await adminCall<{ items: ModelBody[] }>(product, 'GET', '/admin/provider-models?limit=200');
    return page.items.find((m) => m.name === name);
  }

  async function writeBackend(name: string, content: string): Promise<void> {
    await mkdir(path.join(configDir, 'backends', name), { recursive: true });
    await writeFile(path.join(configDir, 'backends', name, 'backend.yaml'), content);
  }

  function backendYaml(name: string, keyVar: string): string {
    return `backend_type: "custom"
api_base_url: "${fake.url}"
api_key_env_var: "${keyVar}"
headers:
  X-Team: "search"
  X-Caller: "{{user}} for {{model}}"
timeout: 60
max_retries: 3
retry_delay: 1.5
models:
  "${name}-large":
    upstream_model: "gpt-4o-mini"
    limits:
      context_window: 32000
      max_input_tokens: 24000
      requests_per_minute: 1000
    parameters:
      temperature: 0.3
`;
  }

  beforeAll(async () => {
    fake = await startFakeOpenAI({ apiKey: envKey });
    configDir = await mkdtemp(path.join(os.tmpdir(), 'gw-config-'));
    keyFile = path.join(configDir, 'master.keys');
    await writeFile(keyFile, `k1:${KEY_1}\n`, { mode: 0o600 });
    await writeBackend('internal', backendYaml('internal', 'E2E_VAULT_OPENAI_KEY'));
    await writeBackend('unset-var', backendYaml('unset-var', 'E2E_VAULT_NEVER_SET'));
    product = await startProduct({ env: { CONFIG_DIR: configDir, E2E_VAULT_OPENAI_KEY: envKey, VAULT_MASTER_KEY_FILE: keyFile, LOG_LEVEL: 'log' } });
    clientKey = (await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: 'svc-search' })).key;
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  }, 60_000);

  beforeEach(() => fake.reset());

  describe('configuration as code and keys from the environment', () => {
    it('imports the config directory at start, marks what it manages, and calls with the key from the environment and rendered header templates', async () => {
      const connection = await within(20_000, () => connectionNamed('internal'), (c) => c !== undefined);
      expect(connection).toMatchObject({
        status: 'active',
        managedBy: 'config:backends/internal/backend.yaml',
        secretEnvVars: { apiKey: 'E2E_VAULT_OPENAI_KEY' },
        settings: { totalTimeoutMs: 60000, maxRetries: 3, retryDelayMs: 1500 },
        apiKeyMasked: null,
      });
      expect(await within(5000, () => modelNamed('internal-large'), (m) => m !== undefined)).toMatchObject({
        managedBy: 'config:backends/internal/backend.yaml',
        contextWindow: 32000,
        requestsPerMinute: 1000,
        defaultParameters: { temperature: 0.3 },
      });
      expect((await within(ROUTABLE_MS, () => chat('internal-large'), (r) => r.status !== 404)).status).toBe(200);
      const [request] = await fake.waitForRequests(1);
      expect(request!.headers).toMatchObject({ authorization: `Bearer ${envKey}`, 'x-team': 'search', 'x-caller': 'svc-search for internal-large' });
      expect(product.output()).not.toContain(envKey);
    });

    it('shows a connection whose variable is unset as error naming it, and refuses its calls clearly instead of calling without a key', async () => {
      const connection = await within(20_000, () => connectionNamed('unset-var'), (c) => c !== undefined);
      expect(connection).toMatchObject({ status: 'error', lastError: expect.stringContaining('E2E_VAULT_NEVER_SET') });
      const errored = await adminCall<{ items: ConnectionBody[] }>(product, 'GET', '/admin/connections?status=error&limit=200');
      expect(errored.items.map((c) => c.name)).toContain('unset-var');
      const answer = await within(ROUTABLE_MS, () => chat('unset-var-large'), (r) => r.status !== 404);
      expect(answer).toMatchObject({ status: 502, code: 'connection_misconfigured', message: expect.stringContaining('E2E_VAULT_NEVER_SET') });
      expect(fake.requests).toHaveLength(0);
    });

    it('reports a broken file, an unknown field and a bad value by path and field, writes nothing of them, and is idempotent', async () => {
      await writeBackend('broken', 'backend_type: custom\nmodels: [unclosed\n');
      await writeBackend('unknown-field', `${backendYaml('unknown-field', 'E2E_VAULT_OPENAI_KEY')}colour: blue\n`);
      await writeBackend('bad-limit', backendYaml('bad-limit', 'E2E_VAULT_OPENAI_KEY').replace('context_window: 32000', 'context_window: 1000'));
      await writeBackend('bad-template', backendYaml('bad-template', 'E2E_VAULT_OPENAI_KEY').replace('{{user}}', '{{whoami}}'));
      const first = await adminCall<ImportReport>(product, 'POST', '/admin/config/import');
      const byPath = Object.fromEntries(first.files.map((f) => [f.path, f]));
      expect(byPath['backends/broken/backend.yaml']).toMatchObject({ status: 'invalid', errors: [{ field: '', message: expect.stringContaining('not valid YAML') }] });
      expect(byPath['backends/unknown-field/backend.yaml']).toMatchObject({ status: 'invalid', errors: [{ field: 'colour', message: expect.stringContaining('unknown field') }] });
      expect(byPath['backends/bad-limit/backend.yaml']).toMatchObject({ status: 'invalid', errors: [{ field: 'models.bad-limit-large.limits.max_input_tokens' }] });
      expect(byPath['backends/bad-template/backend.yaml']).toMatchObject({ status: 'invalid', errors: [{ field: 'headers.X-Caller', message: expect.stringContaining('{{whoami}}') }] });
      expect(byPath['backends/internal/backend.yaml']).toMatchObject({ status: 'unchanged', models: [{ name: 'internal-large', status: 'unchanged' }] });
      for (const name of ['broken', 'unknown-field', 'bad-limit', 'bad-template']) expect(await connectionNamed(name)).toBeUndefined();
      for (const name of ['unknown-field-large', 'bad-limit-large', 'bad-template-large']) expect(await modelNamed(name)).toBeUndefined();

      const second = await adminCall<ImportReport>(product, 'POST', '/admin/config/import');
      expect(second.files.map((f) => [f.path, f.status])).toEqual(first.files.map((f) => [f.path, f.status]));
      for (const name of ['broken', 'unknown-field', 'bad-limit', 'bad-template']) await rm(path.join(configDir, 'backends', name), { recursive: true });
    });

    it('applies a changed file and the export re-imports to the same state', async () => {
      await writeBackend('internal', backendYaml('internal', 'E2E_VAULT_OPENAI_KEY').replace('temperature: 0.3', 'temperature: 0.5'));
      const changed = await adminCall<ImportReport>(product, 'POST', '/admin/config/import');
      expect(changed.files.find((f) => f.path === 'backends/internal/backend.yaml')).toMatchObject({ status: 'updated', models: [{ name: 'internal-large', status: 'updated' }] });
      expect((await modelNamed('internal-large'))?.defaultParameters).toEqual({ temperature: 0.5 });

      const exported = await adminCall<{ files: { path: string; content: string }[] }>(product, 'GET', '/admin/config/export');
      const internal = exported.files.find((f) => f.path === 'backends/internal/backend.yaml');
      expect(internal?.content).toContain('api_key_env_var: E2E_VAULT_OPENAI_KEY');
      expect(JSON.stringify(exported)).not.toContain(envKey);
      // The stored state the files describe; lastUsedAt is metering's observation of earlier calls, which may land meanwhile.
      const state = async () => JSON.stringify([await connectionNamed('internal'), { ...(await modelNamed('internal-large')), lastUsedAt: undefined }]);
      const before = await state();
      for (const file of exported.files.filter((f) => f.path.startsWith('backends/internal/') || f.path.startsWith('backends/unset-var/'))) {
        await writeFile(path.join(configDir, file.path), file.content);
      }
      const reimported = await adminCall<ImportReport>(product, 'POST', '/admin/config/import');
      expect(reimported.files.map((f) => f.status)).toEqual(['unchanged', 'unchanged']);
      expect(await state()).toBe(before);
    });
  });

  describe('header templates', () => {
    it('refuses an unknown variable when a connection is saved, naming the header', async () => {
      const res = await send('POST', '/admin/connections', { name: 'templated-bad', adapter: 'openai-compatible', baseUrl: fake.url, headers: { 'X-Who': '{{usr}}' } });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'validation_failed', details: [{ field: 'headers.X-Who', messages: [expect.stringContaining('{{usr}}')] }] });
    });

    it('renders {{request_id}} and {{model}} per call', async () => {
      const created = await adminCall<{ id: string }>(product, 'POST', '/admin/connections', {
        name: 'templated',
        adapter: 'openai-compatible',
        baseUrl: fake.url,
        apiKeyEnvVar: 'E2E_VAULT_OPENAI_KEY',
        headers: { 'X-Request': '{{request_id}}', 'X-Model': '{{model}}' },
      });
      await adminCall(product, 'POST', '/admin/provider-models', { name: 'templated-model', connectionId: created.id, upstreamModel: 'gpt-4o-mini' });
      expect((await within(ROUTABLE_MS, () => chat('templated-model'), (r) => r.status !== 404)).status).toBe(200);
      expect((await chat('templated-model')).status).toBe(200);
      const [a, b] = await fake.waitForRequests(2);
      expect(a!.headers['x-request']).toMatch(/\S+/);
      expect(a!.headers['x-request']).not.toBe(b!.headers['x-request']);
      expect(a!.headers['x-model']).toBe('templated-model');
    });
  });

  describe('master-key rotation without a restart', () => {
    it('re-wraps every data key under the key put first in VAULT_MASTER_KEY_FILE while calls run, none failing', async () => {
      let stop = false;
      const results: number[] = [];
      const load = (async () => {
        while (!stop) results.push((await chat('internal-large')).status);
      })();
      await new Promise((r) => setTimeout(r, 200));
      await writeFile(keyFile, `k2:${KEY_2},k1:${KEY_1}\n`);
      const rotated = await adminCall<{ activeMasterKeyId: string; previousActiveMasterKeyId: string; rewrapped: number; remainingByMasterKeyId: Record<string, number> }>(
        product,
        'POST',
        '/admin/vault/rotate-master-key',
        {},
      );
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await load;
      expect(rotated).toMatchObject({ activeMasterKeyId: 'k2', previousActiveMasterKeyId: 'k1', remainingByMasterKeyId: {} });
      expect(rotated.rewrapped).toBeGreaterThanOrEqual(3);
      expect(results.length).toBeGreaterThan(0);
      expect(results.filter((s) => s !== 200)).toEqual([]);
      // The secrets still open under the new key (a reveal decrypts).
      const templated = await connectionNamed('templated');
      await expect(adminCall(product, 'POST', `/admin/connections/${templated!.id}/reveal`)).resolves.toMatchObject({ headers: { 'X-Request': '{{request_id}}' } });
    });
  });

  describe('audit log', () => {
    it("lists every service's actions in one log, filters them, and pages without gaps or repeats", async () => {
      const templated = await connectionNamed('templated');
      await adminCall(product, 'PATCH', `/admin/connections/${templated!.id}`, { headers: { 'X-Request': '{{request_id}}' } });
      const all = await adminCall<{ items: AuditEntry[] }>(product, 'GET', '/admin/audit-log?limit=200');
      const actions = new Set(all.items.map((e) => `${e.service} ${e.action}`));
      for (const expected of [
        'gateway gateway_key.created',
        'credential-vault connection.created',
        'credential-vault connection.updated',
        'credential-vault connection.revealed',
        'credential-vault config.imported',
        'credential-vault master_key.rotated',
        'model-registry provider_model.created',
        'model-registry provider_model.updated',
      ]) {
        expect(actions).toContain(expected);
      }
      const times = all.items.map((e) => e.at);
      expect([...times].sort().reverse()).toEqual(times);

      const reveals = await adminCall<{ items: AuditEntry[] }>(product, 'GET', '/admin/audit-log?action=connection.revealed');
      expect(reveals.items.length).toBeGreaterThan(0);
      expect(reveals.items.every((e) => e.action === 'connection.revealed')).toBe(true);
      const system = await adminCall<{ items: AuditEntry[] }>(product, 'GET', '/admin/audit-log?actor=system&resource=connection');
      expect(system.items.map((e) => e.action)).toContain('connection.created');
      expect(system.items.every((e) => e.actor.keyId === 'system' && e.resourceType === 'connection')).toBe(true);
      const future = await adminCall<{ items: AuditEntry[] }>(product, 'GET', `/admin/audit-log?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
      expect(future.items).toEqual([]);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: AuditEntry[]; nextCursor: string | null } = await adminCall(product, 'GET', `/admin/audit-log?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all.items.map((e) => e.id));

      const bad = await send('GET', '/admin/audit-log?from=yesterday');
      expect(bad.status).toBe(400);
      expect(bad.json.error.details).toEqual([{ field: 'from', messages: [expect.stringContaining('ISO 8601')] }]);
    });
  });
});
