import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAdapterRegistry } from '#libs/adapters';
import { loadConfig } from '#libs/config';
import { AppError } from '#libs/contracts';
import { checkConnectionFields } from './connection-adapter-check.js';

const endpointOf = (c: { baseUrl: string }) => ({ baseUrl: c.baseUrl });

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

describe('checkConnectionFields', () => {
  it('accepts an adapter a plugin brought, keeping the given endpoint', async () => {
    const adapters = await loadAdapterRegistry(loadConfig({ ADAPTER_PLUGINS: './v1-plugin.mjs' }), { baseDir: PLUGINS });
    expect(endpointOf(checkConnectionFields(adapters, { adapter: 'fixture-v1', baseUrl: 'https://fixture.example', apiKey: 'k' }))).toEqual({ baseUrl: 'https://fixture.example' });
  });

  it('refuses an id no loaded adapter has, naming the field and every loaded adapter', async () => {
    const adapters = await loadAdapterRegistry(loadConfig({ ADAPTER_PLUGINS: './v1-plugin.mjs' }), { baseDir: PLUGINS });
    const err = refusal(() => checkConnectionFields(adapters, { adapter: 'acme-unknown', baseUrl: 'https://x.example', apiKey: 'k' }));
    expect(err.code).toBe('validation_failed');
    // Every loaded adapter is named: the built-ins (whatever their number) and the plugin's.
    expect(adapters.ids()).toEqual(expect.arrayContaining(['openai-compatible', 'openai', 'anthropic', 'fixture-v1']));
    expect(err.details).toEqual([{ field: 'adapter', messages: [`adapter acme-unknown is not loaded by this gateway; loaded adapters: ${adapters.ids().join(', ')}`] }]);
  });

  it("fills in the adapter's declared default endpoint when none is given", async () => {
    const adapters = await loadAdapterRegistry(loadConfig({}));
    expect(endpointOf(checkConnectionFields(adapters, { adapter: 'anthropic', apiKey: 'sk-ant-1' }))).toEqual({ baseUrl: 'https://api.anthropic.com' });
    expect(endpointOf(checkConnectionFields(adapters, { adapter: 'openai', apiKey: 'sk-1' }))).toEqual({ baseUrl: 'https://api.openai.com/v1' });
  });

  it("refuses a missing endpoint through the adapter's own settings check, or as the vault's column when the adapter declares none", async () => {
    const adapters = await loadAdapterRegistry(loadConfig({ ADAPTER_PLUGINS: './v1-plugin.mjs' }), { baseDir: PLUGINS });
    expect(refusal(() => checkConnectionFields(adapters, { adapter: 'openai-compatible', apiKey: 'k' })).details).toEqual([{ field: 'baseUrl', messages: ['is required'] }]);
    expect(refusal(() => checkConnectionFields(adapters, { adapter: 'fixture-v1', apiKey: 'k' })).details).toEqual([
      { field: 'baseUrl', messages: ['is required: adapter fixture-v1 has no default endpoint'] },
    ]);
  });

  it("takes an adapter's own secret from settings, and names a missing one as settings.<name>", async () => {
    const adapters = await loadAdapterRegistry(loadConfig({ ADAPTER_PLUGINS: './v2-plugin.mjs' }), { baseDir: PLUGINS });
    expect(refusal(() => checkConnectionFields(adapters, { adapter: 'fixture-v2', baseUrl: 'https://f.example' })).details).toEqual([
      { field: 'settings.token', messages: ['is required'] },
    ]);
    const checked = checkConnectionFields(adapters, { adapter: 'fixture-v2', baseUrl: 'https://f.example', settings: { token: 'tok-123456789' } });
    expect({ baseUrl: checked.baseUrl, settings: checked.settings, secrets: checked.secrets }).toEqual({ baseUrl: 'https://f.example', settings: {}, secrets: { token: 'tok-123456789' } });
  });

  it('splits typed settings into plain values (defaults applied) and secrets (apiKey included)', async () => {
    const adapters = await loadAdapterRegistry(loadConfig({}));
    const openai = checkConnectionFields(adapters, { adapter: 'openai', apiKey: 'sk-1', settings: { organization: 'org-1', project: 'proj_1' } });
    expect({ baseUrl: openai.baseUrl, settings: openai.settings, secrets: openai.secrets }).toEqual({
      baseUrl: 'https://api.openai.com/v1',
      settings: { organization: 'org-1', project: 'proj_1' },
      secrets: { apiKey: 'sk-1' },
    });
    const anthropic = checkConnectionFields(adapters, { adapter: 'anthropic', apiKey: 'sk-ant-1', settings: { anthropicVersion: '2024-01-01' } });
    expect(anthropic.settings).toEqual({ anthropicVersion: '2024-01-01', defaultMaxTokens: 4096 });
  });

  it('lets an adapter whose key is optional go without one', async () => {
    const adapters = await loadAdapterRegistry(loadConfig({}));
    expect(checkConnectionFields(adapters, { adapter: 'openai-compatible', baseUrl: 'http://vllm.internal:8000/v1' }).secrets).toEqual({});
  });

  it('names every bad field as the client wrote it: top level for apiKey and baseUrl, settings.<name> for the rest', async () => {
    const adapters = await loadAdapterRegistry(loadConfig({}));
    expect(refusal(() => checkConnectionFields(adapters, { adapter: 'openai', settings: { organisation: 'org-1' } })).details).toEqual([
      { field: 'settings.organisation', messages: ['unknown setting; this adapter accepts baseUrl, apiKey, organization, project'] },
      { field: 'apiKey', messages: ['is required'] },
    ]);
    expect(refusal(() => checkConnectionFields(adapters, { adapter: 'anthropic', apiKey: 'k', settings: { defaultMaxTokens: 'many', anthropicBeta: 7 } })).details).toEqual([
      { field: 'settings.anthropicBeta', messages: ['must be a string'] },
      { field: 'settings.defaultMaxTokens', messages: ['must be an integer'] },
    ]);
    expect(refusal(() => checkConnectionFields(adapters, { adapter: 'openai', apiKey: 'k', settings: { apiKey: 'k2' } })).details).toEqual([
      { field: 'settings.apiKey', messages: ['give apiKey at the top level of the body, not under settings'] },
    ]);
  });
});

describe('checkConnectionFields with secrets from the environment', () => {
  let adapters: Awaited<ReturnType<typeof loadAdapterRegistry>>;
  beforeAll(async () => {
    adapters = await loadAdapterRegistry(loadConfig({}));
  });

  it('takes a required key from an environment variable and stores no value for it', () => {
    const checked = checkConnectionFields(adapters, { adapter: 'openai', secretEnvVars: { apiKey: 'OPENAI_API_KEY' } });
    expect(checked.secrets).toEqual({});
  });

  it('refuses a variable for a field that is not a secret of the adapter, and a field given both ways', () => {
    expect(refusal(() => checkConnectionFields(adapters, { adapter: 'openai', apiKey: 'sk-1', secretEnvVars: { organization: 'ORG' } })).details).toEqual([
      { field: 'secretEnvVars.organization', messages: [expect.stringContaining('not a secret field of adapter openai')] },
    ]);
    expect(refusal(() => checkConnectionFields(adapters, { adapter: 'openai', apiKey: 'sk-1', secretEnvVars: { apiKey: 'K' } })).details).toEqual([
      { field: 'apiKeyEnvVar', messages: [expect.stringContaining('both as a value and as an environment variable')] },
    ]);
  });
});
