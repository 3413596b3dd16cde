import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { QueryRunner } from 'typeorm';
import type { CommandEnvelope, ConnectionView, TenantScope } from '#libs/contracts';
import type { RunningService } from '#libs/runtime';
import { createServiceHarness, envelope, eventually, TEST_SCOPE, type ServiceHarness } from '../../../../test/support/service-harness.js';
import { startCredentialVault } from '../credential-vault.module.js';
import { EnvelopeCipher } from '../crypto/envelope-cipher.js';
import { MasterKeyRing } from '../crypto/master-key-ring.js';
import { VaultTypedConnections1765090000000 } from '../migrations/1765090000000-typed-connections.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** fixture-v2: a contract-v2 adapter whose one secret is `token` (not apiKey), given under settings. */
const V2_PLUGIN = path.resolve(here, '../../../../test/fixtures/plugins/v2-plugin.mjs');
const KEY = randomBytes(32).toString('base64');
const ADMIN = { keyId: 'key_admin_1', name: 'alice' };
const TOKEN = 'fixture-token-0001-abcd';
const NEW_TOKEN = 'fixture-token-0002-wxyz';

function as<T>(input: T, scope: TenantScope = TEST_SCOPE): CommandEnvelope<T> {
  return { scope, actor: ADMIN, input };
}

async function sql<R extends pg.QueryResultRow>(databaseUrl: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

function containsSecret(dump: string, secret: string): boolean {
  return dump.includes(secret) || dump.toLowerCase().includes(Buffer.from(secret, 'utf8').toString('hex'));
}

describe('credential vault: typed connections, editing and status', () => {
  let h: ServiceHarness;
  let typed: ConnectionView;

  beforeAll(async () => {
    h = await createServiceHarness('vault_typed', { VAULT_MASTER_KEY: `a:${KEY}`, ADAPTER_PLUGINS: V2_PLUGIN });
    await h.start(startCredentialVault);
    typed = await h.bus.request('vault.v1.connections.create', as({ name: 'Fixture.Typed', adapter: 'fixture-v2', baseUrl: 'https://fixture.example', settings: { token: TOKEN } }));
  });
  afterAll(() => h.close());

  it("stores an adapter's own secret from settings, lists it masked, and gives the slug from the name", () => {
    expect(typed).toMatchObject({ slug: 'fixture-typed', apiKeyMasked: null, settings: {}, secretsMasked: { token: '••••abcd' }, status: 'active', lastError: null });
  });

  it('keeps the typed secret out of every column and every audit row', async () => {
    const rows = await sql<{ dump: string }>(h.databaseUrl, `SELECT row_to_json(c)::text AS dump FROM vault.connections c WHERE id = $1`, [typed.id]);
    expect(rows[0]!.dump).toContain('fixture-typed');
    expect(containsSecret(rows[0]!.dump, TOKEN)).toBe(false);
    const audit = await sql<{ dump: string }>(h.databaseUrl, `SELECT coalesce(json_agg(a)::text, '') AS dump FROM vault.audit_log a`);
    expect(containsSecret(audit[0]!.dump, TOKEN)).toBe(false);
  });

  it('reveals and resolves every secret field', async () => {
    await expect(h.bus.request('vault.v1.connections.reveal', as({ id: typed.id }))).resolves.toMatchObject({ apiKey: null, secrets: { token: TOKEN } });
    const resolved = (await h.bus.request('vault.v1.connections.resolve-all', {})).find((c) => c.id === typed.id);
    expect(resolved).toMatchObject({ slug: 'fixture-typed', secrets: { token: TOKEN }, settings: {}, status: 'active', apiKey: '' });
  });

  it('numbers a default slug past the ones taken, and refuses a given slug that is taken with conflict', async () => {
    const second = await h.bus.request('vault.v1.connections.create', as({ name: 'fixture_typed', adapter: 'fixture-v2', baseUrl: 'https://fixture.example', settings: { token: TOKEN } }));
    expect(second.slug).toBe('fixture-typed-2');
    await expect(
      h.bus.request('vault.v1.connections.create', as({ name: 'third', slug: 'fixture-typed', adapter: 'fixture-v2', baseUrl: 'https://fixture.example', settings: { token: TOKEN } })),
    ).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('slug fixture-typed') });
  });

  it('keeps a secret left out or blank on PATCH, replaces it with a new value, and audits each change by field name', async () => {
    await h.bus.request('vault.v1.connections.update', as({ id: typed.id, name: 'fixture-renamed' }));
    await h.bus.request('vault.v1.connections.update', as({ id: typed.id, settings: { token: '' } }));
    await expect(h.bus.request('vault.v1.connections.reveal', as({ id: typed.id }))).resolves.toMatchObject({ name: 'fixture-renamed', secrets: { token: TOKEN } });
    const replaced = await h.bus.request('vault.v1.connections.update', as({ id: typed.id, settings: { token: NEW_TOKEN } }));
    expect(replaced.secretsMasked).toEqual({ token: '••••wxyz' });
    await expect(h.bus.request('vault.v1.connections.reveal', as({ id: typed.id }))).resolves.toMatchObject({ secrets: { token: NEW_TOKEN } });
    const audit = await sql<{ details: { fields: string[] } }>(
      h.databaseUrl,
      `SELECT details FROM vault.audit_log WHERE action = 'connection.updated' AND target_id = $1 ORDER BY at`,
      [typed.id],
    );
    expect(audit.map((a) => a.details.fields)).toEqual([['name'], ['settings.token'], ['settings.token']]);
    expect(containsSecret(JSON.stringify(audit), NEW_TOKEN)).toBe(false);
  });

  it('refuses to change the adapter, naming the field, and changes nothing', async () => {
    const before = await h.bus.request('vault.v1.connections.get', as({ id: typed.id }));
    await expect(h.bus.request('vault.v1.connections.update', as({ id: typed.id, adapter: 'openai', name: 'nope' } as never))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'adapter', messages: [expect.stringContaining('adapter cannot change')] }],
    });
    await expect(h.bus.request('vault.v1.connections.get', as({ id: typed.id }))).resolves.toEqual(before);
  });

  it('publishes a change event for every PATCH', async () => {
    const seen = h.events.filter((e) => e.subject === 'vault.v1.events.connection-changed' && (e.payload as { id: string }).id === typed.id).length;
    await h.bus.request('vault.v1.connections.update', as({ id: typed.id, status: 'inactive' }));
    await eventually(
      () => h.events.filter((e) => e.subject === 'vault.v1.events.connection-changed' && (e.payload as { id: string; change: string }).id === typed.id).length,
      (n) => n === seen + 1,
      'the change event',
    );
  });

  it('filters listings by status, and a test result sets active or error unless an admin set inactive', async () => {
    const other = await h.bus.request('vault.v1.connections.create', as({ name: 'status-probe', adapter: 'fixture-v2', baseUrl: 'https://fixture.example', settings: { token: TOKEN } }));
    const failed = await h.bus.request('vault.v1.connections.record-test', as({ id: other.id, ok: false, errorKind: 'auth', message: 'Incorrect API key provided' }));
    expect(failed).toMatchObject({ status: 'error', lastError: 'auth: Incorrect API key provided', lastErrorAt: expect.any(String) });
    const errors = await h.bus.request('vault.v1.connections.list', as({ status: 'error' }));
    expect(errors.items.map((c) => c.id)).toEqual([other.id]);
    const inactive = await h.bus.request('vault.v1.connections.list', as({ status: 'inactive' }));
    expect(inactive.items.map((c) => c.id)).toEqual([typed.id]);
    await expect(h.bus.request('vault.v1.connections.record-test', as({ id: other.id, ok: true }))).resolves.toMatchObject({ status: 'active', lastError: null });
    await expect(h.bus.request('vault.v1.connections.record-test', as({ id: typed.id, ok: true }))).resolves.toMatchObject({ status: 'inactive' });
    const tested = await sql(h.databaseUrl, `SELECT outcome, details FROM vault.audit_log WHERE action = 'connection.tested' AND target_id = $1 ORDER BY at`, [other.id]);
    expect(tested).toEqual([
      { outcome: 'succeeded', details: { ok: false, errorKind: 'auth' } },
      { outcome: 'succeeded', details: { ok: true } },
    ]);
    await expect(h.bus.request('vault.v1.connections.list', as({ status: 'broken' } as never))).rejects.toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'status' })] });
  });

  it('keeps a header value sent blank, drops a header left out, and takes a new one', async () => {
    const withHeaders = await h.bus.request(
      'vault.v1.connections.create',
      as({ name: 'with-headers', adapter: 'fixture-v2', baseUrl: 'https://fixture.example', settings: { token: TOKEN }, headers: { 'X-Keep': 'keep-value-0001', 'X-Drop': 'drop-value-0002' } }),
    );
    await h.bus.request('vault.v1.connections.update', as({ id: withHeaders.id, headers: { 'X-Keep': '', 'X-New': 'new-value-0003' } }));
    const revealed = await h.bus.request('vault.v1.connections.reveal', as({ id: withHeaders.id }));
    expect(revealed.headers).toEqual({ 'X-Keep': 'keep-value-0001', 'X-New': 'new-value-0003' });
    expect(revealed.secrets).toEqual({ token: TOKEN });
    expect(revealed.headersMasked).toEqual({ 'X-Keep': '••••0001', 'X-New': '••••0003' });
  });

  it("refuses a project admin's PATCH or test record of an organisation-wide connection as forbidden, audited as denied, changing nothing", async () => {
    const projectAdmin = { keyId: 'key_proj_a', name: 'pat' };
    const scope = { organisationId: TEST_SCOPE.organisationId, projectId: 'proj_a' };
    const before = await h.bus.request('vault.v1.connections.get', as({ id: typed.id }));
    await expect(h.bus.request('vault.v1.connections.update', { scope, actor: projectAdmin, input: { id: typed.id, name: 'taken-over' } })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(h.bus.request('vault.v1.connections.record-test', { scope, actor: projectAdmin, input: { id: typed.id, ok: false, errorKind: 'auth' } })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(h.bus.request('vault.v1.connections.get', as({ id: typed.id }))).resolves.toEqual(before);
    const denied = await eventually(
      () => sql<{ action: string; outcome: string }>(h.databaseUrl, `SELECT action, outcome FROM vault.audit_log WHERE actor_key_id = 'key_proj_a' ORDER BY action`),
      (rows) => rows.length === 2,
      'the denied audit rows',
    );
    expect(denied).toEqual([
      { action: 'connection.tested', outcome: 'denied' },
      { action: 'connection.updated', outcome: 'denied' },
    ]);
  });

  it('refuses a PATCH to status error: only a connection test sets it', async () => {
    await expect(h.bus.request('vault.v1.connections.update', as({ id: typed.id, status: 'error' } as never))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [expect.objectContaining({ field: 'status' })],
    });
  });
});

describe('credential vault: rows sealed before typed connections', () => {
  let h: ServiceHarness;
  let vault: RunningService | undefined;

  beforeAll(async () => {
    h = await createServiceHarness('vault_typed_old_rows', { VAULT_MASTER_KEY: `a:${KEY}` });
  });
  afterAll(async () => {
    await vault?.close();
    await h.close();
  });

  /** The migration on a bare pg client, as TypeORM would run it (the vault schema first on the path). */
  async function migrate(direction: 'up' | 'down'): Promise<void> {
    const client = new pg.Client({ connectionString: h.databaseUrl });
    await client.connect();
    try {
      await client.query('SET search_path TO vault');
      const runner = { query: (text: string) => client.query(text) } as unknown as QueryRunner;
      await new VaultTypedConnections1765090000000()[direction](runner);
    } finally {
      await client.end();
    }
  }

  it('reads a row written and sealed by the previous version after the migration: slug from its name, key masked and revealed', async () => {
    vault = await startCredentialVault(h.runtime);
    const a = await h.bus.request('vault.v1.connections.create', envelope({ name: 'Old.Row', adapter: 'openai', apiKey: 'sk-placeholder-000' }));
    const b = await h.bus.request('vault.v1.connections.create', envelope({ name: 'old-row', adapter: 'openai', apiKey: 'sk-placeholder-000' }));
    await vault.close();
    vault = undefined;

    // Back to the previous schema, and each row's payload as the previous version sealed it: {apiKey, headers}.
    await migrate('down');
    const cipher = new EnvelopeCipher(MasterKeyRing.parse(`a:${KEY}`));
    for (const [row, apiKey] of [
      [a, 'sk-old-format-0000000001'],
      [b, 'sk-old-format-0000000002'],
    ] as const) {
      const sealed = cipher.seal(
        Buffer.from(JSON.stringify({ apiKey, headers: { 'X-Team': 'red-team-value' } }), 'utf8'),
        Buffer.from(JSON.stringify(['vault.connection.v1', row.organisationId, row.id]), 'utf8'),
      );
      await sql(
        h.databaseUrl,
        `UPDATE vault.connections SET secret_ciphertext = $1, wrapped_data_key = $2, master_key_id = $3, api_key_last4 = $4, header_names = '{X-Team}', header_value_last4 = '{alue}' WHERE id = $5`,
        [sealed.ciphertext, sealed.wrappedDataKey, sealed.masterKeyId, apiKey.slice(-4), row.id],
      );
    }
    await migrate('up');

    vault = await startCredentialVault(h.runtime);
    const page = await h.bus.request('vault.v1.connections.list', envelope({}));
    expect(page.items.map((c) => ({ name: c.name, slug: c.slug, apiKeyMasked: c.apiKeyMasked, secretsMasked: c.secretsMasked, status: c.status }))).toEqual([
      { name: 'Old.Row', slug: 'old-row', apiKeyMasked: '••••0001', secretsMasked: { apiKey: '••••0001' }, status: 'active' },
      { name: 'old-row', slug: 'old-row-2', apiKeyMasked: '••••0002', secretsMasked: { apiKey: '••••0002' }, status: 'active' },
    ]);
    await expect(h.bus.request('vault.v1.connections.reveal', envelope({ id: a.id }))).resolves.toMatchObject({
      apiKey: 'sk-old-format-0000000001',
      secrets: { apiKey: 'sk-old-format-0000000001' },
      headers: { 'X-Team': 'red-team-value' },
    });
    const resolved = await h.bus.request('vault.v1.connections.resolve-all', {});
    expect(resolved.map((c) => c.secrets.apiKey).sort()).toEqual(['sk-old-format-0000000001', 'sk-old-format-0000000002']);
    // A PATCH of an old row re-seals it in the new format, keeping its key.
    await h.bus.request('vault.v1.connections.update', envelope({ id: b.id, settings: { organization: 'org-1' } }));
    await expect(h.bus.request('vault.v1.connections.reveal', envelope({ id: b.id }))).resolves.toMatchObject({
      apiKey: 'sk-old-format-0000000002',
      settings: { organization: 'org-1' },
      headers: { 'X-Team': 'red-team-value' },
    });
  });
});
