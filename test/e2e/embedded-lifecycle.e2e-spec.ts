import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { adminCall } from '../support/e2e/admin-setup.js';
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
