import { Controller, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import pg from 'pg';
import { CommandHandler } from '#libs/bus';
import { AppError, type CommandEnvelope, type CommandResponse, type ConnectionView, type IdInput, type TenantScope } from '#libs/contracts';
import { startBusService } from '#libs/runtime';
import { createServiceHarness, envelope, eventually, TEST_SCOPE, type ServiceHarness } from '../../../test/support/service-harness.js';
import { startModelRegistry } from './model-registry.module.js';

/*
 * One medium test file for the whole service, on purpose: with TEST_NATS_URL every test file shares
 * one NATS server, and two registries started by two files would share the queue group and answer
 * each other's requests from the wrong database.
 */

const ACME: TenantScope = { organisationId: 'acme', projectId: null };
const PROJECT_A: TenantScope = { organisationId: 'default', projectId: 'proj-a' };

/** The connections the fake vault knows, by id. */
const CONNECTIONS: Record<string, { organisationId: string; projectId: string | null }> = {
  conn_default: { organisationId: 'default', projectId: null },
  conn_proj_b: { organisationId: 'default', projectId: 'proj-b' },
  conn_acme: { organisationId: 'acme', projectId: null },
  conn_paging: { organisationId: 'paging-pm', projectId: null },
  conn_ties: { organisationId: 'paging-ties', projectId: null },
};

/** Stands in for the credential vault (built elsewhere): answers connections.get with the vault's tenancy rule. */
@Controller()
class FakeVaultHandler {
  static readonly seen: CommandEnvelope<IdInput>[] = [];

  @CommandHandler('vault.v1.connections.get', 'credential-vault')
  get(@Payload() command: CommandEnvelope<IdInput>): ConnectionView {
    FakeVaultHandler.seen.push(command);
    const c = CONNECTIONS[command.input.id];
    const visible =
      c !== undefined && c.organisationId === command.scope.organisationId && (command.scope.projectId === null || c.projectId === null || c.projectId === command.scope.projectId);
    if (!visible) throw AppError.notFound('connection', command.input.id);
    const at = new Date(0).toISOString();
    return {
      id: command.input.id,
      organisationId: c.organisationId,
      projectId: c.projectId,
      name: command.input.id,
      adapter: 'openai-compatible',
      baseUrl: 'https://llm.example.test/v1',
      slug: command.input.id,
      apiKeyMasked: '••••abcd',
      headersMasked: {},
      settings: {},
      secretsMasked: { apiKey: '••••abcd' },
      status: 'active',
      lastError: null,
      lastErrorAt: null,
      createdAt: at,
      updatedAt: at,
    };
  }
}

@Module({ controllers: [FakeVaultHandler] })
class FakeVaultModule {}

let h: ServiceHarness;

beforeAll(async () => {
  h = await createServiceHarness('model_registry');
  await h.start((runtime) => startBusService('fake-vault', FakeVaultModule, runtime));
  await h.start(startModelRegistry);
});
afterAll(() => h?.close());

function providerModel(name: string, connectionId = 'conn_default') {
  return { name, connectionId, upstreamModel: `${name}-2024-07-18`, maxInputTokens: 128_000, maxOutputTokens: 16_384 };
}

function modelDefinition(name: string, prices: Record<string, string> = { input: '0.0000025', output: '0.00001' }) {
  return { name, matchPattern: `(?i)^(openai/)?${name}$`, tokenizer: 'o200k_base' as const, prices };
}

/** Ids in the order lists serve them: created_at, then id (rows created in the same millisecond tie on time). */
function inListOrder(rows: { id: string; createdAt: string }[]): string[] {
  return [...rows].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((r) => r.id);
}

async function sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: h.databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('registry ping', () => {
  it('answers once its migrations have run', async () => {
    await expect(h.bus.request('registry.v1.ping', {})).resolves.toEqual({ service: 'model-registry', ok: true });
    const tables = await sql<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'registry' ORDER BY 1`);
    expect(tables.map((t) => t.table_name)).toEqual(['audit_log', 'migrations', 'model_definitions', 'model_prices', 'provider_models']);
  });
});

describe('provider models over the bus', () => {
  it('creates a provider model on a connection the vault knows and gets it back by id', async () => {
    const created = await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('gpt-4o-mini')));
    expect(created).toMatchObject({
      id: expect.stringMatching(/^pm_[a-z2-7]{26}$/),
      organisationId: 'default',
      projectId: null,
      name: 'gpt-4o-mini',
      connectionId: 'conn_default',
      upstreamModel: 'gpt-4o-mini-2024-07-18',
      maxInputTokens: 128_000,
      maxOutputTokens: 16_384,
    });
    expect(created.createdAt).toBe(created.updatedAt);
    await expect(h.bus.request('registry.v1.provider-models.get', envelope({ id: created.id }))).resolves.toEqual(created);
  });

  it('asks the vault about the connection with the caller’s own scope and actor', async () => {
    await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('scope-forwarded')));
    expect(FakeVaultHandler.seen.at(-1)).toEqual({ scope: TEST_SCOPE, actor: { keyId: 'key_test', name: 'test' }, input: { id: 'conn_default' } });
  });

  it('refuses a connection the vault does not know as validation_failed naming connectionId', async () => {
    await expect(h.bus.request('registry.v1.provider-models.create', envelope(providerModel('orphan', 'conn_missing')))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'connectionId', messages: ['connection conn_missing does not exist'] }],
    });
    const all = await h.bus.request('registry.v1.provider-models.all', {});
    expect(all.map((m) => m.name)).not.toContain('orphan');
  });

  it('refuses another organisation’s connection as if it did not exist', async () => {
    await expect(h.bus.request('registry.v1.provider-models.create', envelope(providerModel('borrowed', 'conn_acme')))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'connectionId', messages: ['connection conn_acme does not exist'] }],
    });
  });

  it('refuses an organisation-wide provider model on a connection that belongs to one project', async () => {
    await expect(h.bus.request('registry.v1.provider-models.create', envelope(providerModel('leaky', 'conn_proj_b')))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'connectionId', messages: [expect.stringContaining('belongs to project proj-b')] }],
    });
  });

  it('refuses input the DTO rejects, naming the field', async () => {
    await expect(
      h.bus.request('registry.v1.provider-models.create', envelope({ ...providerModel('bad-limits'), maxInputTokens: 0 })),
    ).rejects.toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'maxInputTokens' })] });
  });

  it('refuses a second provider model of the same name in the organisation as a conflict naming it', async () => {
    await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('dup-pm')));
    await expect(h.bus.request('registry.v1.provider-models.create', envelope(providerModel('dup-pm')))).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('dup-pm'),
    });
  });

  it('lets another organisation use the same name', async () => {
    await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('shared-name')));
    await expect(h.bus.request('registry.v1.provider-models.create', envelope(providerModel('shared-name', 'conn_acme'), ACME))).resolves.toMatchObject({
      organisationId: 'acme',
      name: 'shared-name',
    });
  });

  it('hides provider models from another organisation: get, list and delete', async () => {
    const mine = await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('private-pm')));
    await expect(h.bus.request('registry.v1.provider-models.get', envelope({ id: mine.id }, ACME))).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.bus.request('registry.v1.provider-models.delete', envelope({ id: mine.id }, ACME))).rejects.toMatchObject({ code: 'not_found' });
    const acmeList = await h.bus.request('registry.v1.provider-models.list', envelope({ limit: 200 }, ACME));
    expect(acmeList.items.map((m) => m.id)).not.toContain(mine.id);
    expect(acmeList.items.every((m) => m.organisationId === 'acme')).toBe(true);
    await expect(h.bus.request('registry.v1.provider-models.get', envelope({ id: mine.id }))).resolves.toMatchObject({ id: mine.id });
  });

  it('shows a project-scoped key its project’s and the organisation-wide models, not another project’s', async () => {
    const orgWide = await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('org-wide')));
    const projB = await h.bus.request('registry.v1.provider-models.create', envelope({ ...providerModel('proj-b-model', 'conn_proj_b'), projectId: 'proj-b' }));
    const projA = await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('proj-a-model'), PROJECT_A));
    expect(projA.projectId).toBe('proj-a');
    const seen = (await h.bus.request('registry.v1.provider-models.list', envelope({ limit: 200 }, PROJECT_A))).items.map((m) => m.id);
    expect(seen).toEqual(expect.arrayContaining([orgWide.id, projA.id]));
    expect(seen).not.toContain(projB.id);
    await expect(h.bus.request('registry.v1.provider-models.delete', envelope({ id: orgWide.id }, PROJECT_A))).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('audits a project admin refused the delete of an organisation-wide or another project’s model, and leaves both in place', async () => {
    const orgWide = await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('org-wide-audited')));
    const projB = await h.bus.request('registry.v1.provider-models.create', envelope({ ...providerModel('proj-b-audited', 'conn_proj_b'), projectId: 'proj-b' }));
    await expect(h.bus.request('registry.v1.provider-models.delete', envelope({ id: orgWide.id }, PROJECT_A))).rejects.toMatchObject({ code: 'forbidden' });
    await expect(h.bus.request('registry.v1.provider-models.delete', envelope({ id: projB.id }, PROJECT_A))).rejects.toMatchObject({ code: 'not_found' });
    for (const m of [orgWide, projB]) await expect(h.bus.request('registry.v1.provider-models.get', envelope({ id: m.id }))).resolves.toMatchObject({ id: m.id });
    const rows = await eventually(
      () =>
        sql<{ target_id: string; project_id: string | null; actor_project_id: string; outcome: string; reason: string }>(
          `SELECT target_id, project_id, actor_project_id, outcome, reason FROM registry.audit_log
            WHERE action = 'provider_model.deleted' AND target_id = ANY($1) ORDER BY target_id = $2 DESC`,
          [[orgWide.id, projB.id], orgWide.id],
        ),
      (r) => r.length === 2,
      'two denied delete rows',
    );
    expect(rows).toEqual([
      { target_id: orgWide.id, project_id: null, actor_project_id: 'proj-a', outcome: 'denied', reason: expect.stringContaining('organisation-wide') },
      { target_id: projB.id, project_id: 'proj-b', actor_project_id: 'proj-a', outcome: 'denied', reason: expect.stringContaining('outside') },
    ]);
  });

  it('audits a successful create and delete with their actor and outcome', async () => {
    const made = await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('audited-lifecycle')));
    await h.bus.request('registry.v1.provider-models.delete', envelope({ id: made.id }));
    const rows = await eventually(
      () => sql<{ action: string; outcome: string; actor_key_id: string }>(`SELECT action, outcome, actor_key_id FROM registry.audit_log WHERE target_id = $1 ORDER BY action`, [made.id]),
      (r) => r.length === 2,
      'created and deleted rows',
    );
    expect(rows).toEqual([
      { action: 'provider_model.created', outcome: 'succeeded', actor_key_id: 'key_test' },
      { action: 'provider_model.deleted', outcome: 'succeeded', actor_key_id: 'key_test' },
    ]);
  });

  it('lists page by page, oldest first, with an opaque cursor until the last page', async () => {
    const scope: TenantScope = { organisationId: 'paging-pm', projectId: null };
    const created = [];
    for (const n of [1, 2, 3, 4, 5]) created.push(await h.bus.request('registry.v1.provider-models.create', envelope(providerModel(`page-${n}`, 'conn_paging'), scope)));
    const ids = inListOrder(created);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await h.bus.request('registry.v1.provider-models.list', envelope({ limit: 2, ...(cursor ? { cursor } : {}) }, scope));
      seen.push(...page.items.map((m) => m.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
  });

  it('pages through rows created in the same millisecond without losing or repeating one', async () => {
    const scope: TenantScope = { organisationId: 'paging-ties', projectId: null };
    for (const n of [1, 2, 3, 4, 5]) await h.bus.request('registry.v1.provider-models.create', envelope(providerModel(`tie-${n}`, 'conn_ties'), scope));
    await sql(`UPDATE registry.provider_models SET created_at = '2025-01-01T00:00:00Z' WHERE organisation_id = 'paging-ties'`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: CommandResponse<'registry.v1.provider-models.list'> = await h.bus.request('registry.v1.provider-models.list', envelope({ limit: 2, ...(cursor ? { cursor } : {}) }, scope));
      seen.push(...page.items.map((m) => m.id));
      cursor = page.nextCursor;
    } while (cursor !== null && seen.length < 20);
    const stored = await sql<{ id: string }>(`SELECT id FROM registry.provider_models WHERE organisation_id = 'paging-ties' ORDER BY id`);
    expect(seen).toEqual(stored.map((r) => r.id));
  });

  it('deletes a provider model; getting or deleting it again is not_found', async () => {
    const created = await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('short-lived')));
    await expect(h.bus.request('registry.v1.provider-models.delete', envelope({ id: created.id }))).resolves.toEqual({ deleted: true });
    await expect(h.bus.request('registry.v1.provider-models.get', envelope({ id: created.id }))).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.bus.request('registry.v1.provider-models.delete', envelope({ id: created.id }))).rejects.toMatchObject({ code: 'not_found' });
  });

  it('publishes provider-model-changed after a create and after a delete', async () => {
    const created = await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('evented-pm')));
    await h.bus.request('registry.v1.provider-models.delete', envelope({ id: created.id }));
    const changes = await eventually(
      () => h.events.filter((e) => e.subject === 'registry.v1.events.provider-model-changed' && (e.payload as { id: string }).id === created.id),
      (found) => found.length >= 2,
      'provider-model-changed events',
    );
    expect(changes.map((e) => e.payload)).toEqual([
      { id: created.id, scope: TEST_SCOPE, change: 'created', at: expect.any(String) },
      { id: created.id, scope: TEST_SCOPE, change: 'deleted', at: expect.any(String) },
    ]);
  });

  it('returns every organisation’s provider models from provider-models.all', async () => {
    const a = await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('all-default')));
    const b = await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('all-acme', 'conn_acme'), ACME));
    const all = await h.bus.request('registry.v1.provider-models.all', {});
    expect(all).toEqual(expect.arrayContaining([a, b]));
  });
});

describe('model definitions over the bus', () => {
  it('creates a definition and gets it back with its prices as the exact decimal strings', async () => {
    const created = await h.bus.request(
      'registry.v1.model-definitions.create',
      envelope(modelDefinition('gpt-4o', { input: '0.0000025', output: '0.00001', cache_read: '0.000000000000000000000000000001' })),
    );
    expect(created).toMatchObject({
      id: expect.stringMatching(/^mdef_/),
      organisationId: 'default',
      projectId: null,
      name: 'gpt-4o',
      matchPattern: '(?i)^(openai/)?gpt-4o$',
      tokenizer: 'o200k_base',
    });
    expect(created.priceVersions).toHaveLength(1);
    expect(created.priceVersions[0].prices).toEqual({ input: '0.0000025', output: '0.00001', cache_read: '0.000000000000000000000000000001' });
    await expect(h.bus.request('registry.v1.model-definitions.get', envelope({ id: created.id }))).resolves.toEqual(created);
  });

  it('stores prices in numeric without losing a digit', async () => {
    const created = await h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('exact-prices', { input: '123456789012345678.12345678901234567890123456789' })));
    const rows = await sql<{ price: string }>(`SELECT price::text AS price FROM registry.model_prices WHERE definition_id = $1`, [created.id]);
    expect(rows).toEqual([{ price: '123456789012345678.12345678901234567890123456789' }]);
    const got = await h.bus.request('registry.v1.model-definitions.get', envelope({ id: created.id }));
    expect(got.priceVersions[0].prices.input).toBe('123456789012345678.12345678901234567890123456789');
  });

  it('writes a price with trailing zeros in its one normal form', async () => {
    const created = await h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('trailing-zeros', { input: '0.00000250', output: '2.50' })));
    expect(created.priceVersions[0].prices).toEqual({ input: '0.0000025', output: '2.5' });
    const got = await h.bus.request('registry.v1.model-definitions.get', envelope({ id: created.id }));
    expect(got.priceVersions[0].prices).toEqual({ input: '0.0000025', output: '2.5' });
  });

  it('keeps the given effectiveFrom, and defaults it to now', async () => {
    const dated = await h.bus.request('registry.v1.model-definitions.create', envelope({ ...modelDefinition('dated'), effectiveFrom: '2024-07-18T00:00:00Z' }));
    expect(dated.priceVersions[0].effectiveFrom).toBe('2024-07-18T00:00:00.000Z');
    const before = Date.now();
    const undated = await h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('undated')));
    const at = Date.parse(undated.priceVersions[0].effectiveFrom);
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('refuses a pattern RE2 cannot compile as validation_failed naming matchPattern with the reason', async () => {
    await expect(
      h.bus.request('registry.v1.model-definitions.create', envelope({ ...modelDefinition('lookahead'), matchPattern: '^gpt-4(?!o)' })),
    ).rejects.toMatchObject({ code: 'validation_failed', details: [{ field: 'matchPattern', messages: [expect.stringContaining('lookahead')] }] });
    await expect(
      h.bus.request('registry.v1.model-definitions.create', envelope({ ...modelDefinition('unbalanced'), matchPattern: 'gpt-(4o' })),
    ).rejects.toMatchObject({ code: 'validation_failed', details: [{ field: 'matchPattern', messages: [expect.stringContaining('missing closing )')] }] });
  });

  it('refuses prices that are not decimal strings, naming prices', async () => {
    await expect(
      h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('float-price', { input: '2.5e-6' }))),
    ).rejects.toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'prices' })] });
  });

  it('refuses a second definition of the same name in the organisation as a conflict naming it', async () => {
    await h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('dup-def')));
    await expect(h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('dup-def')))).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('dup-def'),
    });
  });

  it('hides definitions from another organisation: get, list and delete', async () => {
    const mine = await h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('private-def')));
    await expect(h.bus.request('registry.v1.model-definitions.get', envelope({ id: mine.id }, ACME))).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.bus.request('registry.v1.model-definitions.delete', envelope({ id: mine.id }, ACME))).rejects.toMatchObject({ code: 'not_found' });
    const acmeList = await h.bus.request('registry.v1.model-definitions.list', envelope({ limit: 200 }, ACME));
    expect(acmeList.items.map((d) => d.id)).not.toContain(mine.id);
  });

  it('lists page by page, oldest first, each definition with its prices', async () => {
    const scope: TenantScope = { organisationId: 'paging-def', projectId: null };
    const created = [];
    for (const n of [1, 2, 3]) created.push(await h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition(`def-page-${n}`, { input: `0.000000${n}` }), scope)));
    const ids = inListOrder(created);
    const priceOf = new Map(created.map((d) => [d.id, d.priceVersions[0].prices.input]));
    const first = await h.bus.request('registry.v1.model-definitions.list', envelope({ limit: 2 }, scope));
    expect(first.items.map((d) => d.id)).toEqual(ids.slice(0, 2));
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await h.bus.request('registry.v1.model-definitions.list', envelope({ limit: 2, cursor: first.nextCursor! }, scope));
    expect(second).toEqual({ items: [expect.objectContaining({ id: ids[2], priceVersions: [expect.objectContaining({ prices: { input: priceOf.get(ids[2]) } })] })], nextCursor: null });
    expect(first.items.map((d) => d.priceVersions[0].prices.input)).toEqual(ids.slice(0, 2).map((id) => priceOf.get(id)));
  });

  it('deletes a definition with its prices; getting it again is not_found', async () => {
    const created = await h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('doomed')));
    await expect(h.bus.request('registry.v1.model-definitions.delete', envelope({ id: created.id }))).resolves.toEqual({ deleted: true });
    await expect(h.bus.request('registry.v1.model-definitions.get', envelope({ id: created.id }))).rejects.toMatchObject({ code: 'not_found' });
    expect(await sql(`SELECT 1 FROM registry.model_prices WHERE definition_id = $1`, [created.id])).toEqual([]);
  });

  it('publishes model-definition-changed after a create and after a delete', async () => {
    const created = await h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('evented-def')));
    await h.bus.request('registry.v1.model-definitions.delete', envelope({ id: created.id }));
    const changes = await eventually(
      () => h.events.filter((e) => e.subject === 'registry.v1.events.model-definition-changed' && (e.payload as { id: string }).id === created.id),
      (found) => found.length >= 2,
      'model-definition-changed events',
    );
    expect(changes.map((e) => (e.payload as { change: string }).change)).toEqual(['created', 'deleted']);
  });

  it('returns every organisation’s definitions with their prices from model-definitions.all', async () => {
    const a = await h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('all-def-default')));
    const b = await h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('all-def-acme', { input: '0.0000025' }), ACME));
    const all = await h.bus.request('registry.v1.model-definitions.all', {});
    expect(all).toEqual(expect.arrayContaining([a, b]));
    expect(all.find((d) => d.id === b.id)?.priceVersions[0].prices).toEqual({ input: '0.0000025' });
  });
});

describe('registry commands without an organisation', () => {
  const SUBJECTS = [
    ['registry.v1.provider-models.create', providerModel('no-org')],
    ['registry.v1.provider-models.list', {}],
    ['registry.v1.provider-models.get', { id: 'pm_x' }],
    ['registry.v1.provider-models.delete', { id: 'pm_x' }],
    ['registry.v1.model-definitions.create', modelDefinition('no-org')],
    ['registry.v1.model-definitions.list', {}],
    ['registry.v1.model-definitions.get', { id: 'mdef_x' }],
    ['registry.v1.model-definitions.delete', { id: 'mdef_x' }],
  ] as const;

  async function rowCounts(): Promise<unknown> {
    return (await sql(`SELECT (SELECT count(*)::int FROM registry.provider_models) AS pm, (SELECT count(*)::int FROM registry.model_definitions) AS def`))[0];
  }

  it.each(SUBJECTS)('refuses %s as validation_failed on scope.organisationId and touches no row', async (subject, input) => {
    const before = await rowCounts();
    for (const scope of [undefined, { projectId: null }, { organisationId: '', projectId: null }]) {
      await expect(h.bus.request(subject, { scope, actor: { keyId: 'k', name: 'n' }, input } as never)).rejects.toMatchObject({
        code: 'validation_failed',
        details: expect.arrayContaining([expect.objectContaining({ field: 'scope.organisationId' })]),
      });
    }
    expect(await rowCounts()).toEqual(before);
  });
});
