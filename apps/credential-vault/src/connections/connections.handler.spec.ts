import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '#libs/config';
import { builtInAdaptersV2 } from '#libs/adapters';
import type { CommandEnvelope, ConnectionView, CreateConnectionDto, TenantScope } from '#libs/contracts';
import type { RunningService, ServiceRuntime } from '#libs/runtime';
import { createServiceHarness, envelope, eventually, TEST_SCOPE, type ServiceHarness } from '../../../../test/support/service-harness.js';
import { startCredentialVault } from '../credential-vault.module.js';
import { MasterKeyRing } from '../crypto/master-key-ring.js';
import { FixedMasterKeySource } from '../crypto/master-key-source.js';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');

const API_KEY = 'sk-proj-Q8fjw2pLmZ0vXyWXYZ';
const ORG_HEADER = 'org-7h3s3cr3tValue';
const SHORT_HEADER = 'tiny';
const OTHER_ORG: TenantScope = { organisationId: 'org_other', projectId: null };
const ADMIN = { keyId: 'key_admin_1', name: 'alice' };

function connection(name: string, overrides: Partial<CreateConnectionDto> = {}): CreateConnectionDto {
  return { name, adapter: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: API_KEY, headers: { 'OpenAI-Organization': ORG_HEADER, 'X-Short': SHORT_HEADER }, ...overrides };
}

function as<T>(actor: { keyId: string; name: string }, input: T, scope: TenantScope = TEST_SCOPE): CommandEnvelope<T> {
  return { scope, actor, input };
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

/** Every way a secret could sit in a column: as text, or as the bytes of a bytea (shown as hex). */
function containsSecret(dump: string, secret: string): boolean {
  return dump.includes(secret) || dump.toLowerCase().includes(Buffer.from(secret, 'utf8').toString('hex'));
}

describe('credential vault on the bus', () => {
  let h: ServiceHarness;
  let created: ConnectionView;

  beforeAll(async () => {
    h = await createServiceHarness('credential_vault', { VAULT_MASTER_KEY: `a:${KEY_A}`, UPSTREAM_ALLOWLIST: '10.20.0.0/16' });
    await h.start(startCredentialVault);
    created = await h.bus.request('vault.v1.connections.create', as(ADMIN, connection('openai-prod')));
  });
  afterAll(() => h.close());

  it('answers its ping once its migrations have run', async () => {
    await expect(h.bus.request('vault.v1.ping', {})).resolves.toEqual({ service: 'credential-vault', ok: true });
  });

  it('creates a connection whose view masks the key and header values to their last 4 characters', () => {
    expect(created).toMatchObject({
      id: expect.stringMatching(/^conn_[a-z2-7]{26}$/),
      organisationId: 'default',
      projectId: null,
      name: 'openai-prod',
      adapter: 'openai',
      apiKeyMasked: '••••WXYZ',
      headersMasked: { 'OpenAI-Organization': '••••alue', 'X-Short': '••••' },
    });
  });

  it('lists the connection with the key masked, and the listing never carries the key or a header value', async () => {
    const page = await h.bus.request('vault.v1.connections.list', envelope({}));
    const listed = page.items.find((c) => c.id === created.id);
    expect(listed?.apiKeyMasked).toBe('••••WXYZ');
    const text = JSON.stringify(page);
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(ORG_HEADER);
    expect(text).not.toContain(SHORT_HEADER);
  });

  it('stores neither the key nor any header value in any column of the vault schema', async () => {
    const rows = await sql<{ dump: string }>(h.databaseUrl, `SELECT row_to_json(c)::text AS dump FROM vault.connections c WHERE id = $1`, [created.id]);
    expect(rows).toHaveLength(1);
    const [{ dump }] = rows;
    expect(dump).toContain('openai-prod'); // the dump is the row, so the absence below means something
    for (const secret of [API_KEY, ORG_HEADER, SHORT_HEADER]) expect(containsSecret(dump, secret)).toBe(false);
    const audit = await sql<{ dump: string }>(h.databaseUrl, `SELECT coalesce(json_agg(a)::text, '') AS dump FROM vault.audit_log a`);
    for (const secret of [API_KEY, ORG_HEADER, 'WXYZ', 'alue']) expect(containsSecret(audit[0].dump, secret)).toBe(false);
  });

  it('reveals the key and headers and has written an audit row naming the actor by the time it answers', async () => {
    const revealer = { keyId: 'key_admin_2', name: 'bob' };
    const revealed = await h.bus.request('vault.v1.connections.reveal', as(revealer, { id: created.id }));
    expect(revealed.apiKey).toBe(API_KEY);
    expect(revealed.headers).toEqual({ 'OpenAI-Organization': ORG_HEADER, 'X-Short': SHORT_HEADER });
    const audit = await sql(h.databaseUrl, `SELECT organisation_id, actor_key_id, actor_name, target_id FROM vault.audit_log WHERE action = 'connection.revealed'`);
    expect(audit).toEqual([{ organisation_id: 'default', actor_key_id: 'key_admin_2', actor_name: 'bob', target_id: created.id }]);
  });

  it('audits the creation with its actor', async () => {
    const audit = await sql(h.databaseUrl, `SELECT actor_key_id, actor_name FROM vault.audit_log WHERE action = 'connection.created' AND target_id = $1`, [created.id]);
    expect(audit).toEqual([{ actor_key_id: ADMIN.keyId, actor_name: ADMIN.name }]);
  });

  it('refuses a second connection of the same name in the organisation with conflict, naming it', async () => {
    await expect(h.bus.request('vault.v1.connections.create', envelope(connection('openai-prod', { apiKey: 'sk-another-key-123456' })))).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('openai-prod'),
    });
  });

  it('lets another organisation use the same name', async () => {
    const other = await h.bus.request('vault.v1.connections.create', envelope(connection('openai-prod'), OTHER_ORG));
    expect(other.organisationId).toBe('org_other');
  });

  it.each([
    ['http://0x7f000001/v1', 'loopback'],
    ['http://2130706433/v1', 'loopback'],
    ['http://127.1:11434/v1', 'loopback'],
    ['http://[::ffff:169.254.169.254]/latest', 'cloud metadata'],
    ['http://metadata.google.internal/', 'cloud metadata'],
    ['http://10.30.0.1/v1', 'private-network'],
  ])('refuses to create a connection on %s (%s) with validation_failed naming baseUrl and UPSTREAM_ALLOWLIST', async (baseUrl, addressClass) => {
    const name = `forbidden-${Buffer.from(baseUrl).toString('hex').slice(0, 40)}`;
    const err = await h.bus.request('vault.v1.connections.create', envelope(connection(name, { baseUrl }))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'validation_failed', details: [{ field: 'baseUrl', messages: [expect.stringContaining(`${addressClass} address`)] }] });
    expect((err as { details: Array<{ messages: string[] }> }).details[0]!.messages[0]).toContain('UPSTREAM_ALLOWLIST');
    const page = await h.bus.request('vault.v1.connections.list', envelope({ limit: 200 }));
    expect(page.items.map((c) => c.name)).not.toContain(name);
  });

  it("refuses an adapter's other URL setting on a forbidden address too, naming settings.<name> (an Entra ID authority)", async () => {
    const azure = { name: 'azure-metadata', adapter: 'azure-openai', baseUrl: 'https://res.openai.azure.com', settings: { apiVersion: '2024-10-21', tenantId: 't', clientId: 'c', clientSecret: 's', authorityUrl: 'http://169.254.169.254/' } };
    const err = await h.bus.request('vault.v1.connections.create', envelope(azure)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'validation_failed', details: [{ field: 'settings.authorityUrl', messages: [expect.stringContaining('cloud metadata address')] }] });
    await expect(h.bus.request('vault.v1.connections.create', envelope({ ...azure, settings: { ...azure.settings, authorityUrl: 'https://login.microsoftonline.us' } }))).resolves.toMatchObject({
      settings: { authorityUrl: 'https://login.microsoftonline.us' },
    });
  });

  it('creates a connection on a private address that UPSTREAM_ALLOWLIST lets through, and on a name (checked at connect time)', async () => {
    await expect(h.bus.request('vault.v1.connections.create', envelope(connection('vllm-private', { baseUrl: 'http://10.20.1.2:8000/v1' })))).resolves.toMatchObject({ baseUrl: 'http://10.20.1.2:8000/v1' });
    await expect(h.bus.request('vault.v1.connections.create', envelope(connection('ollama-local', { baseUrl: 'http://localhost:11434/v1' })))).resolves.toMatchObject({ name: 'ollama-local' });
  });

  it('refuses an adapter this vault has not loaded with validation_failed naming adapter and the loaded adapters, storing nothing', async () => {
    const err = await h.bus.request('vault.v1.connections.create', envelope(connection('watsonx-too-early', { adapter: 'watsonx' }))).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'adapter', messages: [`adapter watsonx is not loaded by this gateway; loaded adapters: ${builtInAdaptersV2.map((a) => a.id).join(', ')}`] }],
    });
    const page = await h.bus.request('vault.v1.connections.list', envelope({ limit: 200 }));
    expect(page.items.map((c) => c.name)).not.toContain('watsonx-too-early');
  });

  it("stores the adapter's default endpoint for a connection created without baseUrl, and refuses one whose adapter has none", async () => {
    const { baseUrl: _none, ...withoutUrl } = connection('claude');
    await expect(h.bus.request('vault.v1.connections.create', envelope({ ...withoutUrl, adapter: 'anthropic' }))).resolves.toMatchObject({
      adapter: 'anthropic',
      baseUrl: 'https://api.anthropic.com',
    });
    await expect(h.bus.request('vault.v1.connections.create', envelope({ ...withoutUrl, name: 'vllm-nowhere', adapter: 'openai-compatible' }))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'baseUrl', messages: ['is required'] }],
    });
  });

  it('answers not_found for an unknown id on get, reveal and delete', async () => {
    for (const subject of ['vault.v1.connections.get', 'vault.v1.connections.reveal', 'vault.v1.connections.delete'] as const) {
      await expect(h.bus.request(subject, envelope({ id: 'conn_doesnotexist' }))).rejects.toMatchObject({ code: 'not_found', details: { id: 'conn_doesnotexist' } });
    }
  });

  it("keeps an organisation's connection out of another organisation's list, get, reveal and delete", async () => {
    const page = await h.bus.request('vault.v1.connections.list', envelope({}, OTHER_ORG));
    expect(page.items.map((c) => c.organisationId)).toEqual(['org_other']);
    for (const subject of ['vault.v1.connections.get', 'vault.v1.connections.reveal', 'vault.v1.connections.delete'] as const) {
      await expect(h.bus.request(subject, envelope({ id: created.id }, OTHER_ORG))).rejects.toMatchObject({ code: 'not_found' });
    }
    await expect(h.bus.request('vault.v1.connections.get', envelope({ id: created.id }))).resolves.toMatchObject({ id: created.id });
    // The attempt is on record, as one that found nothing: the other organisation's row is invisible to it.
    const reveals = await eventually(
      () => sql(h.databaseUrl, `SELECT outcome, target_id FROM vault.audit_log WHERE action = 'connection.revealed' AND organisation_id = 'org_other'`),
      (rows) => rows.length > 0,
      'the refused reveal row',
    );
    expect(reveals).toEqual([{ outcome: 'failed', target_id: created.id }]);
  });

  it("shows a project its own and the organisation-wide connections, not another project's", async () => {
    const projectA: TenantScope = { organisationId: 'org_projects', projectId: 'proj_a' };
    const projectB: TenantScope = { organisationId: 'org_projects', projectId: 'proj_b' };
    const orgWide = await h.bus.request('vault.v1.connections.create', envelope(connection('shared'), { organisationId: 'org_projects', projectId: null }));
    const ofA = await h.bus.request('vault.v1.connections.create', envelope(connection('only-a'), projectA));
    expect(ofA.projectId).toBe('proj_a');
    const seenByB = await h.bus.request('vault.v1.connections.list', envelope({}, projectB));
    expect(seenByB.items.map((c) => c.id)).toEqual([orgWide.id]);
    await expect(h.bus.request('vault.v1.connections.get', envelope({ id: ofA.id }, projectB))).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.bus.request('vault.v1.connections.create', envelope(connection('sneaky', { projectId: 'proj_a' }), projectB))).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('pages through a list with limit and an opaque cursor, each connection once, in the order of one unpaged read', async () => {
    const scope: TenantScope = { organisationId: 'org_paging', projectId: null };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await h.bus.request('vault.v1.connections.create', envelope(connection(`c${i}`), scope))).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await h.bus.request('vault.v1.connections.list', envelope({ limit: 2, cursor }, scope));
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect([...seen].sort()).toEqual([...ids].sort());
    // Same order as one unpaged read (rows created in the same millisecond are ordered by id).
    const whole = await h.bus.request('vault.v1.connections.list', envelope({ limit: 200 }, scope));
    expect(seen).toEqual(whole.items.map((c) => c.id));
    expect(whole.nextCursor).toBeNull();
  });

  it('refuses a limit below 1 with validation_failed naming limit, as the registry does', async () => {
    await expect(
      h.bus.request('vault.v1.connections.list', envelope({ limit: 0 }, { organisationId: 'org_paging', projectId: null })),
    ).rejects.toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'limit' })] });
  });

  it('refuses a cursor it did not issue with validation_failed', async () => {
    await expect(h.bus.request('vault.v1.connections.list', envelope({ cursor: 'bm90LWEtY3Vyc29y' }))).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('resolves every organisation\'s connections with their credentials decrypted, for the gateway', async () => {
    const all = await h.bus.request('vault.v1.connections.resolve-all', {});
    const mine = all.find((c) => c.id === created.id);
    expect(mine).toMatchObject({ organisationId: 'default', apiKey: API_KEY, headers: { 'OpenAI-Organization': ORG_HEADER } });
    expect(new Set(all.map((c) => c.organisationId))).toEqual(new Set(['default', 'org_other', 'org_projects', 'org_paging']));
  });

  it('deletes a connection, audits it, and publishes connection-changed after create and after delete', async () => {
    const doomed = await h.bus.request('vault.v1.connections.create', envelope(connection('doomed')));
    await expect(h.bus.request('vault.v1.connections.delete', as(ADMIN, { id: doomed.id }))).resolves.toEqual({ deleted: true });
    await expect(h.bus.request('vault.v1.connections.get', envelope({ id: doomed.id }))).rejects.toMatchObject({ code: 'not_found' });
    const audit = await sql(h.databaseUrl, `SELECT action, actor_name FROM vault.audit_log WHERE target_id = $1 ORDER BY at, action`, [doomed.id]);
    expect(audit).toEqual([
      { action: 'connection.created', actor_name: 'test' },
      { action: 'connection.deleted', actor_name: 'alice' },
    ]);
    const changes = await eventually(
      () => h.events.filter((e) => e.subject === 'vault.v1.events.connection-changed' && (e.payload as { id: string }).id === doomed.id).map((e) => e.payload),
      (found) => found.length === 2,
      'created and deleted events',
    );
    expect(changes).toEqual([
      { id: doomed.id, scope: { organisationId: 'default', projectId: null }, change: 'created', at: expect.any(String) },
      { id: doomed.id, scope: { organisationId: 'default', projectId: null }, change: 'deleted', at: expect.any(String) },
    ]);
  });
});

describe('credential vault: command checks and the ownership rule', () => {
  let h: ServiceHarness;
  const ORG = 'org_tenancy';
  const ORG_ADMIN: TenantScope = { organisationId: ORG, projectId: null };
  const PROJECT_A: TenantScope = { organisationId: ORG, projectId: 'proj_a' };
  const PROJECT_B: TenantScope = { organisationId: ORG, projectId: 'proj_b' };
  const PROJECT_ADMIN = { keyId: 'key_proj_a', name: 'pat' };
  let shared: ConnectionView;
  let ofA: ConnectionView;

  async function counts(): Promise<{ connections: number; audit: number }> {
    const [row] = await sql<{ connections: number; audit: number }>(
      h.databaseUrl,
      `SELECT (SELECT count(*)::int FROM vault.connections) AS connections, (SELECT count(*)::int FROM vault.audit_log) AS audit`,
    );
    return row;
  }

  async function auditOf(targetId: string | null, action: string) {
    return sql(
      h.databaseUrl,
      `SELECT organisation_id, project_id, actor_key_id, actor_project_id, outcome, reason FROM vault.audit_log
        WHERE action = $1 AND target_id IS NOT DISTINCT FROM $2 AND outcome <> 'succeeded' ORDER BY at`,
      [action, targetId],
    );
  }

  beforeAll(async () => {
    h = await createServiceHarness('credential_vault_tenancy', { VAULT_MASTER_KEY: `a:${KEY_A}` });
    await h.start(startCredentialVault);
    shared = await h.bus.request('vault.v1.connections.create', as(ADMIN, connection('shared'), ORG_ADMIN));
    ofA = await h.bus.request('vault.v1.connections.create', as(PROJECT_ADMIN, connection('only-a'), PROJECT_A));
  });
  afterAll(() => h.close());

  const ENVELOPES_WITHOUT_ORGANISATION: [string, unknown][] = [
    ['no scope', { actor: ADMIN, input: { id: 'x' } }],
    ['no organisation', { scope: { projectId: null }, actor: ADMIN, input: { id: 'x' } }],
    ['an empty organisation', { scope: { organisationId: '', projectId: null }, actor: ADMIN, input: { id: 'x' } }],
    ['a non-string organisation', { scope: { organisationId: { $ne: null }, projectId: null }, actor: ADMIN, input: { id: 'x' } }],
    ['an empty envelope', {}],
  ];
  const SCOPED_SUBJECTS = ['vault.v1.connections.create', 'vault.v1.connections.list', 'vault.v1.connections.get', 'vault.v1.connections.delete', 'vault.v1.connections.reveal'] as const;

  it.each(ENVELOPES_WITHOUT_ORGANISATION)('refuses every connection command with %s as validation_failed on scope.organisationId, touching no row', async (_what, payload) => {
    const before = await counts();
    for (const subject of SCOPED_SUBJECTS) {
      const withInput = subject === 'vault.v1.connections.create' && payload !== null ? { ...(payload as object), input: connection(`nope-${subject}`) } : payload;
      await expect(h.bus.request(subject, withInput as never)).rejects.toMatchObject({
        code: 'validation_failed',
        details: expect.arrayContaining([expect.objectContaining({ field: 'scope.organisationId' })]),
      });
    }
    await h.bus.request('vault.v1.ping', {}); // anything queued behind the refusals has run
    expect(await counts()).toEqual(before);
  });

  it('refuses a get, reveal or delete without a usable id, and a create whose input breaks the DTO, naming the field', async () => {
    const before = await counts();
    for (const subject of ['vault.v1.connections.get', 'vault.v1.connections.reveal', 'vault.v1.connections.delete'] as const) {
      for (const input of [{}, { id: '' }, { id: 42 }, null]) {
        await expect(h.bus.request(subject, as(ADMIN, input as never, ORG_ADMIN))).rejects.toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'id' })] });
      }
    }
    const numericKey = { ...connection('numeric-key'), apiKey: 42 } as unknown as CreateConnectionDto;
    await expect(h.bus.request('vault.v1.connections.create', as(ADMIN, numericKey, ORG_ADMIN))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [expect.objectContaining({ field: 'apiKey' })],
    });
    expect(await counts()).toEqual(before);
  });

  it('refuses a project admin the reveal and the delete of an organisation-wide connection it can see, and audits both as denied', async () => {
    await expect(h.bus.request('vault.v1.connections.get', as(PROJECT_ADMIN, { id: shared.id }, PROJECT_A))).resolves.toMatchObject({ id: shared.id });
    await expect(h.bus.request('vault.v1.connections.reveal', as(PROJECT_ADMIN, { id: shared.id }, PROJECT_A))).rejects.toMatchObject({ code: 'forbidden' });
    await expect(h.bus.request('vault.v1.connections.delete', as(PROJECT_ADMIN, { id: shared.id }, PROJECT_A))).rejects.toMatchObject({ code: 'forbidden' });
    await expect(h.bus.request('vault.v1.connections.get', as(ADMIN, { id: shared.id }, ORG_ADMIN))).resolves.toMatchObject({ id: shared.id });
    for (const action of ['connection.revealed', 'connection.deleted']) {
      const rows = await eventually(() => auditOf(shared.id, action), (r) => r.length === 1, `denied ${action} row`);
      expect(rows).toEqual([
        { organisation_id: ORG, project_id: null, actor_key_id: PROJECT_ADMIN.keyId, actor_project_id: 'proj_a', outcome: 'denied', reason: expect.stringContaining('organisation-wide') },
      ]);
    }
  });

  it("answers another project's connection as not_found (its existence does not leak) and audits the attempt as denied", async () => {
    const intruder = { keyId: 'key_proj_b', name: 'bea' };
    await expect(h.bus.request('vault.v1.connections.reveal', as(intruder, { id: ofA.id }, PROJECT_B))).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.bus.request('vault.v1.connections.delete', as(intruder, { id: ofA.id }, PROJECT_B))).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.bus.request('vault.v1.connections.get', as(ADMIN, { id: ofA.id }, ORG_ADMIN))).resolves.toMatchObject({ id: ofA.id });
    const rows = await eventually(() => auditOf(ofA.id, 'connection.revealed'), (r) => r.length === 1, 'denied reveal row');
    expect(rows).toEqual([
      { organisation_id: ORG, project_id: 'proj_a', actor_key_id: 'key_proj_b', actor_project_id: 'proj_b', outcome: 'denied', reason: expect.stringContaining('outside') },
    ]);
  });

  it('audits a reveal of an unknown id as failed, not denied', async () => {
    await expect(h.bus.request('vault.v1.connections.reveal', as(ADMIN, { id: 'conn_unknown' }, ORG_ADMIN))).rejects.toMatchObject({ code: 'not_found' });
    const rows = await eventually(() => auditOf('conn_unknown', 'connection.revealed'), (r) => r.length === 1, 'failed reveal row');
    expect(rows).toEqual([expect.objectContaining({ outcome: 'failed', reason: expect.stringContaining('not_found') })]);
  });

  it('refuses a project admin a connection in another project or organisation-wide, and audits it as denied without a target', async () => {
    const before = (await counts()).connections;
    await expect(h.bus.request('vault.v1.connections.create', as(PROJECT_ADMIN, connection('into-b', { projectId: 'proj_b' }), PROJECT_A))).rejects.toMatchObject({ code: 'forbidden' });
    expect((await counts()).connections).toBe(before);
    const rows = await eventually(() => auditOf(null, 'connection.created'), (r) => r.length === 1, 'denied create row');
    expect(rows).toEqual([expect.objectContaining({ project_id: 'proj_b', actor_project_id: 'proj_a', outcome: 'denied', reason: expect.stringContaining('project proj_b') })]);
  });

  it("lets a project admin reveal and delete its own project's connection", async () => {
    const own = await h.bus.request('vault.v1.connections.create', as(PROJECT_ADMIN, connection('own-a'), PROJECT_A));
    await expect(h.bus.request('vault.v1.connections.reveal', as(PROJECT_ADMIN, { id: own.id }, PROJECT_A))).resolves.toMatchObject({ apiKey: API_KEY });
    await expect(h.bus.request('vault.v1.connections.delete', as(PROJECT_ADMIN, { id: own.id }, PROJECT_A))).resolves.toEqual({ deleted: true });
    const audit = await sql(h.databaseUrl, `SELECT action, outcome FROM vault.audit_log WHERE target_id = $1 ORDER BY at, action`, [own.id]);
    expect(audit).toEqual([
      { action: 'connection.created', outcome: 'succeeded' },
      { action: 'connection.revealed', outcome: 'succeeded' },
      { action: 'connection.deleted', outcome: 'succeeded' },
    ]);
  });
});

describe('credential vault master key rotation across restarts', () => {
  let h: ServiceHarness;
  const running: RunningService[] = [];

  /** The harness's runtime with another VAULT_MASTER_KEY, as an operator would restart with. */
  function runtimeWithKeys(vaultMasterKey: string): ServiceRuntime {
    const config = loadConfig({ DATABASE_URL: h.databaseUrl, NATS_URL: h.runtime.config.natsUrl, LOG_LEVEL: 'error', VAULT_MASTER_KEY: vaultMasterKey });
    return { ...h.runtime, config };
  }

  async function startWith(vaultMasterKey: string): Promise<RunningService> {
    const service = await startCredentialVault(runtimeWithKeys(vaultMasterKey));
    running.push(service);
    return service;
  }

  async function stop(service: RunningService): Promise<void> {
    running.splice(running.indexOf(service), 1);
    await service.close();
  }

  beforeAll(async () => {
    h = await createServiceHarness('credential_vault_rotation');
  });
  afterAll(async () => {
    for (const s of running.reverse()) await s.close();
    await h.close();
  });

  it('refuses to start without VAULT_MASTER_KEY in distributed mode, naming the variable', async () => {
    await expect(startCredentialVault(h.runtime)).rejects.toThrow(/VAULT_MASTER_KEY/);
  });

  it('re-wraps every row onto the new active key after a restart, audits it once per organisation, and the rows still decrypt with the new key alone', async () => {
    const first = await startWith(`a:${KEY_A}`);
    const mine = await h.bus.request('vault.v1.connections.create', envelope(connection('one', { apiKey: 'sk-one-0000000001' })));
    const mine2 = await h.bus.request('vault.v1.connections.create', envelope(connection('two', { apiKey: 'sk-two-0000000002' })));
    const theirs = await h.bus.request('vault.v1.connections.create', envelope(connection('three', { apiKey: 'sk-three-000000003' }), OTHER_ORG));
    await stop(first);

    // A row sealed under a key nobody configured any more: must be reported, never touched.
    await sql(
      h.databaseUrl,
      `INSERT INTO vault.connections (id, organisation_id, project_id, name, slug, adapter, base_url, secret_ciphertext, wrapped_data_key, master_key_id, api_key_last4, header_names, header_value_last4)
       SELECT 'conn_lostkey', organisation_id, project_id, 'lost', 'lost', adapter, base_url, secret_ciphertext, wrapped_data_key, 'lost', api_key_last4, header_names, header_value_last4
         FROM vault.connections WHERE id = $1`,
      [mine.id],
    );
    const lostBefore = await sql<{ wrapped_data_key: Buffer }>(h.databaseUrl, `SELECT wrapped_data_key FROM vault.connections WHERE id = 'conn_lostkey'`);

    const second = await startWith(`b:${KEY_B},a:${KEY_A}`);
    const audits = await eventually(
      () => sql<{ organisation_id: string; actor_key_id: string; target_id: string; details: { count: number; fromMasterKeyIds: string[] } }>(
        h.databaseUrl,
        `SELECT organisation_id, actor_key_id, target_id, details FROM vault.audit_log WHERE action = 'master_key.rotated' ORDER BY organisation_id`,
      ),
      (rows) => rows.length === 2,
      'master_key.rotated audit rows',
    );
    expect(audits).toEqual([
      { organisation_id: 'default', actor_key_id: 'system', target_id: 'b', details: { count: 2, fromMasterKeyIds: ['a'] } },
      { organisation_id: 'org_other', actor_key_id: 'system', target_id: 'b', details: { count: 1, fromMasterKeyIds: ['a'] } },
    ]);
    const keyIds = await sql<{ id: string; master_key_id: string }>(h.databaseUrl, `SELECT id, master_key_id FROM vault.connections ORDER BY id`);
    expect(Object.fromEntries(keyIds.map((r) => [r.id, r.master_key_id]))).toEqual({ [mine.id]: 'b', [mine2.id]: 'b', [theirs.id]: 'b', conn_lostkey: 'lost' });
    const lostAfter = await sql<{ wrapped_data_key: Buffer }>(h.databaseUrl, `SELECT wrapped_data_key FROM vault.connections WHERE id = 'conn_lostkey'`);
    expect(lostAfter[0].wrapped_data_key.equals(lostBefore[0].wrapped_data_key)).toBe(true);
    await stop(second);

    // The old key can now leave the configuration (given here through an injected key source).
    running.push(await startCredentialVault(h.runtime, { keySource: new FixedMasterKeySource(MasterKeyRing.parse(`b:${KEY_B}`)) }));
    await expect(h.bus.request('vault.v1.connections.reveal', envelope({ id: mine.id }))).resolves.toMatchObject({ apiKey: 'sk-one-0000000001' });
    await expect(h.bus.request('vault.v1.connections.reveal', envelope({ id: theirs.id }, OTHER_ORG))).resolves.toMatchObject({ apiKey: 'sk-three-000000003' });
    const resolved = await h.bus.request('vault.v1.connections.resolve-all', {});
    expect(resolved.map((c) => c.apiKey).sort()).toEqual(['sk-one-0000000001', 'sk-three-000000003', 'sk-two-0000000002']);
    await expect(h.bus.request('vault.v1.connections.reveal', envelope({ id: 'conn_lostkey' }))).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('master key lost is not configured'),
    });
  });

  it('refuses a ciphertext copied onto another row: the copy does not decrypt, the original still does', async () => {
    const [source] = await sql<{ id: string }>(h.databaseUrl, `SELECT id FROM vault.connections WHERE name = 'one'`);
    const [target] = await sql<{ id: string }>(h.databaseUrl, `SELECT id FROM vault.connections WHERE name = 'two'`);
    await sql(
      h.databaseUrl,
      `UPDATE vault.connections t SET secret_ciphertext = s.secret_ciphertext, wrapped_data_key = s.wrapped_data_key, master_key_id = s.master_key_id
         FROM vault.connections s WHERE s.id = $1 AND t.id = $2`,
      [source.id, target.id],
    );
    await expect(h.bus.request('vault.v1.connections.reveal', envelope({ id: target.id }))).rejects.toMatchObject({ code: 'internal', message: 'internal error' });
    await expect(h.bus.request('vault.v1.connections.reveal', envelope({ id: source.id }))).resolves.toMatchObject({ apiKey: 'sk-one-0000000001' });
    const failed = await eventually(
      () => sql(h.databaseUrl, `SELECT outcome, reason FROM vault.audit_log WHERE action = 'connection.revealed' AND target_id = $1`, [target.id]),
      (rows) => rows.length === 1,
      'the failed reveal audit row',
    );
    expect(failed).toEqual([{ outcome: 'failed', reason: 'internal' }]);
  });
});
