import type { CommandEnvelope } from '#libs/contracts';
import { createServiceHarness, envelope, type ServiceHarness } from '../../../../test/support/service-harness.js';
import { startCredentialVault } from '../credential-vault.module.js';

const SET_VAR = `VAULT_SPEC_KEY_${process.pid}`;
const UNSET_VAR = `VAULT_SPEC_UNSET_${process.pid}`;

/** Issue 16.3 and 16.7 on the vault's bus commands: secrets named by environment variable, header templates checked at save. */
describe('vault: keys from the environment and header templates', () => {
  let h: ServiceHarness;
  const refused = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return err as { code: string; details: { field: string; messages: string[] }[] };
    }
    throw new Error('expected a refusal');
  };

  beforeAll(async () => {
    process.env[SET_VAR] = 'sk-from-the-environment-0001';
    h = await createServiceHarness('vault_env_keys', { CONFIG_DIR: '/nonexistent/config-dir', VAULT_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') });
    await h.start(startCredentialVault);
  });
  afterAll(async () => {
    delete process.env[SET_VAR];
    await h.close();
  });

  it('stores no key for a field read from the environment, and hands the gateway the variable name', async () => {
    const created = await h.bus.request('vault.v1.connections.create', envelope({ name: 'env-key', adapter: 'openai', apiKeyEnvVar: SET_VAR }));
    expect(created).toMatchObject({ status: 'active', apiKeyMasked: null, secretsMasked: {}, secretEnvVars: { apiKey: SET_VAR }, lastError: null });
    const resolved = (await h.bus.request('vault.v1.connections.resolve-all', {})).find((c) => c.id === created.id);
    expect(resolved).toMatchObject({ apiKey: '', secrets: {}, secretEnvVars: { apiKey: SET_VAR } });
  });

  it('lists a connection whose variable is unset as error naming it, in ?status=error too, and back once it reads a stored key', async () => {
    const created = await h.bus.request('vault.v1.connections.create', envelope({ name: 'env-unset', adapter: 'openai', apiKeyEnvVar: UNSET_VAR }));
    expect(created).toMatchObject({ status: 'error', lastError: expect.stringContaining(`${UNSET_VAR} (apiKey) is not set`) });
    const errors = await h.bus.request('vault.v1.connections.list', envelope({ status: 'error' }));
    expect(errors.items.map((c) => c.name)).toContain('env-unset');
    const active = await h.bus.request('vault.v1.connections.list', envelope({ status: 'active' }));
    expect(active.items.map((c) => c.name)).not.toContain('env-unset');

    const stored = await h.bus.request('vault.v1.connections.update', envelope({ id: created.id, apiKeyEnvVar: null, apiKey: 'sk-stored-again-0002' }) as CommandEnvelope<never>);
    expect(stored).toMatchObject({ status: 'active', lastError: null, secretEnvVars: {}, apiKeyMasked: '••••0002' });
  });

  it('drops a stored key when a PATCH moves it to the environment, and refuses a field given both ways or unknown', async () => {
    const created = await h.bus.request('vault.v1.connections.create', envelope({ name: 'env-move', adapter: 'openai', apiKey: 'sk-stored-000000003' }));
    const moved = await h.bus.request('vault.v1.connections.update', envelope({ id: created.id, apiKeyEnvVar: SET_VAR }) as CommandEnvelope<never>);
    expect(moved).toMatchObject({ apiKeyMasked: null, secretsMasked: {}, secretEnvVars: { apiKey: SET_VAR } });
    expect((await h.bus.request('vault.v1.connections.reveal', envelope({ id: created.id }))).secrets).toEqual({});

    const both = await refused(h.bus.request('vault.v1.connections.create', envelope({ name: 'env-both', adapter: 'openai', apiKey: 'sk-x-00000000', apiKeyEnvVar: SET_VAR })));
    expect(both).toMatchObject({ code: 'validation_failed', details: [{ field: 'apiKeyEnvVar', messages: [expect.stringContaining('both')] }] });
    const unknown = await refused(h.bus.request('vault.v1.connections.create', envelope({ name: 'env-unknown', adapter: 'openai', apiKeyEnvVar: SET_VAR, secretEnvVars: { project: 'P' } })));
    expect(unknown).toMatchObject({ code: 'validation_failed', details: [{ field: 'secretEnvVars.project', messages: [expect.stringContaining('not a secret field')] }] });
  });

  it('refuses a header template with an unknown variable on create and on PATCH, naming the header', async () => {
    const onCreate = await refused(h.bus.request('vault.v1.connections.create', envelope({ name: 'tpl', adapter: 'openai', apiKey: 'sk-t-00000000', headers: { 'X-User': '{{usr}}' } })));
    expect(onCreate).toMatchObject({ code: 'validation_failed', details: [{ field: 'headers.X-User', messages: [expect.stringContaining('{{usr}}')] }] });
    const created = await h.bus.request('vault.v1.connections.create', envelope({ name: 'tpl', adapter: 'openai', apiKey: 'sk-t-00000000', headers: { 'X-User': '{{user}}' } }));
    const onPatch = await refused(h.bus.request('vault.v1.connections.update', envelope({ id: created.id, headers: { 'X-User': '', 'X-Id': '{{#user}}x{{/user}}' } }) as CommandEnvelope<never>));
    expect(onPatch).toMatchObject({ code: 'validation_failed', details: [{ field: 'headers.X-Id' }] });
  });

  it('imports nothing, without an error, when CONFIG_DIR does not exist', async () => {
    await expect(h.bus.request('vault.v1.config.import', envelope({}))).resolves.toEqual({ directory: '/nonexistent/config-dir', found: false, files: [] });
  });
});
