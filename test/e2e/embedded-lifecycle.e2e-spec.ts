import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startFakeOpenAI } from '../support/fake-upstream/index.js';
import { adminCall, routeModel, waitUntilRoutable } from '../support/e2e/admin-setup.js';
import { productModeFromEnv, startProduct } from '../support/e2e/product.js';

const embedded = productModeFromEnv() === 'embedded';

/** `npm start` on its embedded default: its data survives a restart, and bad configuration stops it. */
(embedded ? describe : describe.skip)('the embedded product', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'gw-lifecycle-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps its data across a restart and prints no second bootstrap key', async () => {
    const first = await startProduct({ mode: 'embedded', dataDir });
    let connectionId: string;
    try {
      connectionId = (await adminCall<{ id: string }>(first, 'POST', '/admin/connections', {
        name: 'survives-restart',
        adapter: 'openai-compatible',
        baseUrl: 'http://127.0.0.1:9/v1',
        apiKey: 'sk-kept-across-restarts-1234',
      })).id;
    } finally {
      await first.stop();
    }
    expect((await stat(path.join(dataDir, 'vault-master.key'))).mode & 0o777).toBe(0o600);

    const second = await startProduct({ mode: 'embedded', dataDir, adminKey: first.adminKey });
    try {
      expect(second.output()).not.toMatch(/Bootstrap admin key/);
      const revealed = await adminCall<{ apiKey: string }>(second, 'POST', `/admin/connections/${connectionId}/reveal`);
      expect(revealed.apiKey).toBe('sk-kept-across-restarts-1234');
    } finally {
      await second.stop();
    }
  }, 180_000);

  it('records a call made just before SIGTERM: the stop flushes usage before the services close', async () => {
    const fake = await startFakeOpenAI();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-flush-'));
    try {
      const first = await startProduct({ mode: 'embedded', dataDir: dir, env: { TELEMETRY_FLUSH_MS: '60000' } });
      let upstreamModel: string;
      try {
        const route = await routeModel(first, { upstreamUrl: fake.url, prices: { input: '0.000001', output: '0.000002' } });
        upstreamModel = route.upstreamModel;
        await waitUntilRoutable(first, route);
        fake.enqueue({ kind: 'completion', usage: { promptTokens: 100, completionTokens: 50 } });
        const client = new OpenAI({ apiKey: route.clientKey, baseURL: `${first.url}/v1`, maxRetries: 0 });
        await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'hi' }] });
      } finally {
        await first.stop(); // SIGTERM; the span is still queued (flush interval 60 s)
      }
      const second = await startProduct({ mode: 'embedded', dataDir: dir, adminKey: first.adminKey });
      try {
        const report = await adminCall<{ groups: { key: string; requests: number; cost: string }[] }>(second, 'GET', '/admin/usage/costs');
        // 100 x 0.000001 + 50 x 0.000002 = 0.0002
        expect(report.groups.find((g) => g.key === upstreamModel)).toMatchObject({ requests: 1, cost: '0.0002' });
      } finally {
        await second.stop();
      }
    } finally {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('refuses to start on a bad variable, naming it', () => {
    const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
    const result = spawnSync(process.execPath, [path.join(root, 'dist/apps/main.js')], {
      env: { ...process.env, NODE_OPTIONS: '', PORT: 'eighty', VAULT_MASTER_KEY: 'too-short', DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('VAULT_MASTER_KEY');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
