import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAdapterRegistry } from '#libs/adapters';
import { loadConfig } from '#libs/config';
import { AppError } from '#libs/contracts';
import { checkConnectionAdapter } from './connection-adapter-check.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PLUGINS = path.resolve(here, '../../../../test/fixtures/plugins');

const refusal = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('checkConnectionAdapter', () => {
  it('accepts an adapter a plugin brought, keeping the given endpoint', async () => {
    const adapters = await loadAdapterRegistry(loadConfig({ ADAPTER_PLUGINS: './v1-plugin.mjs' }), { baseDir: PLUGINS });
    expect(checkConnectionAdapter(adapters, { adapter: 'fixture-v1', baseUrl: 'https://fixture.example', apiKey: 'k' })).toEqual({ baseUrl: 'https://fixture.example' });
  });

  it('refuses an id no loaded adapter has, naming the field and every loaded adapter', async () => {
    const adapters = await loadAdapterRegistry(loadConfig({ ADAPTER_PLUGINS: './v1-plugin.mjs' }), { baseDir: PLUGINS });
    const err = refusal(() => checkConnectionAdapter(adapters, { adapter: 'vertex-ai', baseUrl: 'https://x.example', apiKey: 'k' }));
    expect(err.code).toBe('validation_failed');
    expect(err.details).toEqual([{ field: 'adapter', messages: ['adapter vertex-ai is not loaded by this gateway; loaded adapters: openai-compatible, openai, anthropic, fixture-v1'] }]);
  });

  it("fills in the adapter's declared default endpoint when none is given", async () => {
    const adapters = await loadAdapterRegistry(loadConfig({}));
    expect(checkConnectionAdapter(adapters, { adapter: 'anthropic', apiKey: 'sk-ant-1' })).toEqual({ baseUrl: 'https://api.anthropic.com' });
    expect(checkConnectionAdapter(adapters, { adapter: 'openai', apiKey: 'sk-1' })).toEqual({ baseUrl: 'https://api.openai.com/v1' });
  });

  it("refuses a missing endpoint through the adapter's own settings check, or as the vault's column when the adapter declares none", async () => {
    const adapters = await loadAdapterRegistry(loadConfig({ ADAPTER_PLUGINS: './v1-plugin.mjs' }), { baseDir: PLUGINS });
    expect(refusal(() => checkConnectionAdapter(adapters, { adapter: 'openai-compatible', apiKey: 'k' })).details).toEqual([{ field: 'baseUrl', messages: ['is required'] }]);
    expect(refusal(() => checkConnectionAdapter(adapters, { adapter: 'fixture-v1', apiKey: 'k' })).details).toEqual([
      { field: 'baseUrl', messages: ['is required: adapter fixture-v1 has no default endpoint'] },
    ]);
  });

  it('reports settings the create body cannot carry under the name the adapter gives them', async () => {
    const adapters = await loadAdapterRegistry(loadConfig({ ADAPTER_PLUGINS: './v2-plugin.mjs' }), { baseDir: PLUGINS });
    expect(refusal(() => checkConnectionAdapter(adapters, { adapter: 'fixture-v2', baseUrl: 'https://f.example', apiKey: 'k' })).details).toEqual([
      { field: 'token', messages: ['is required'] },
    ]);
  });
});
