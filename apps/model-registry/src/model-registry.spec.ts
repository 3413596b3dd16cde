import { Controller, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import pg from 'pg';
import { CommandHandler } from '#libs/bus';
import { AppError, type CommandEnvelope, type CommandResponse, type ConnectionView, type IdInput, type TenantScope } from '#libs/contracts';
import { startBusService } from '#libs/runtime';
import { createServiceHarness, envelope, eventually, TEST_SCOPE, type ServiceHarness } from '../../../test/support/service-harness.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AppConfig } from '#libs/config';
import type { ServiceRuntime } from '#libs/runtime';
import { defaultCataloguePath, readCatalogueFile, type CatalogueEntry } from './catalogue/catalogue-file.js';
import type { QueryRunner } from 'typeorm';
import { ProviderModelRouting1765090000000 } from './migrations/1765090000000-provider-model-routing.js';
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
      secretEnvVars: {},
      managedBy: null,
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
    expect(tables.map((t) => t.table_name)).toEqual(['audit_log', 'migrations', 'model_definitions', 'model_price_tiers', 'model_prices', 'model_rewrite_rules', 'provider_models']);
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

describe('model definitions: PATCH, price versions, preview (issue 14 items 4 and 5)', () => {
  const future = (ms: number) => new Date(Date.now() + ms).toISOString();

  it('adds a price version after the first and keeps the first as it was', async () => {
    const created = await h.bus.request('registry.v1.model-definitions.create', envelope({ ...modelDefinition('versioned', { input: '0.000001', output: '0.000002' }), effectiveFrom: '2025-01-01T00:00:00Z' }));
    const at = future(60_000);
    const changed = await h.bus.request('registry.v1.model-definitions.add-version', envelope({ id: created.id, prices: { input: '0.000003', output: '0.000004' }, effectiveFrom: at }));
    expect(changed.priceVersions.map((v) => [v.effectiveFrom, v.prices])).toEqual([
      ['2025-01-01T00:00:00.000Z', { input: '0.000001', output: '0.000002' }],
      [new Date(at).toISOString(), { input: '0.000003', output: '0.000004' }],
    ]);
    // The new version is not in force yet: the view's preview still shows the first.
    expect(changed.preview?.effectiveFrom).toBe('2025-01-01T00:00:00.000Z');
    const audit = await sql<{ action: string; outcome: string }>(`SELECT action, outcome FROM registry.audit_log WHERE target_id = $1 AND action = 'model_definition.version_added'`, [created.id]);
    expect(audit).toEqual([{ action: 'model_definition.version_added', outcome: 'succeeded' }]);
  });

  it('refuses a version that would rewrite history: at or before the latest version, or in the past', async () => {
    const created = await h.bus.request('registry.v1.model-definitions.create', envelope({ ...modelDefinition('history'), effectiveFrom: future(3_600_000) }));
    await expect(h.bus.request('registry.v1.model-definitions.add-version', envelope({ id: created.id, prices: { input: '1' }, effectiveFrom: created.priceVersions[0].effectiveFrom }))).rejects.toMatchObject({
      code: 'conflict',
      details: expect.objectContaining({ field: 'effectiveFrom' }),
    });
    await expect(h.bus.request('registry.v1.model-definitions.add-version', envelope({ id: created.id, prices: { input: '1' }, effectiveFrom: '2024-01-01T00:00:00Z' }))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [expect.objectContaining({ field: 'effectiveFrom' })],
    });
    const rows = await sql(`SELECT 1 FROM registry.model_price_tiers WHERE definition_id = $1`, [created.id]);
    expect(rows).toHaveLength(1);
  });

  it('stores tiers with their conditions and previews each, per unit, 1K and 1M in exact decimals', async () => {
    const created = await h.bus.request(
      'registry.v1.model-definitions.create',
      envelope({
        name: 'tiered-preview',
        matchPattern: '^tiered-preview$',
        effectiveFrom: '2025-01-01T00:00:00Z',
        tiers: [
          { name: 'standard', isDefault: true, prices: { input: '0.000000075', output: '0.0000003' } },
          { name: 'long context', isDefault: false, priority: 1, conditions: [{ usageTypes: ['input', 'cache_read', 'cache_write'], operator: 'gt', value: 200000 }], prices: { input: '0.00000015', output: '0.0000006' } },
        ],
      }),
    );
    expect(created.priceVersions[0].tiers.map((t) => [t.name, t.conditions])).toEqual([
      ['standard', []],
      ['long context', [{ usageTypes: ['input', 'cache_read', 'cache_write'], operator: 'gt', value: 200000 }]],
    ]);
    const preview = await h.bus.request('registry.v1.model-definitions.preview', envelope({ id: created.id }));
    expect(preview.tiers[0].usageTypes.find((u) => u.usageType === 'input')).toEqual({ usageType: 'input', perUnit: '0.000000075', per1K: '0.000075', per1M: '0.075', inheritedFrom: null });
    expect(preview.tiers[1].usageTypes.find((u) => u.usageType === 'cache_read')).toEqual({ usageType: 'cache_read', perUnit: '0.00000015', per1K: '0.00015', per1M: '0.15', inheritedFrom: 'input' });
    expect(created.preview).toEqual(preview);
    await expect(h.bus.request('registry.v1.model-definitions.preview', envelope({ id: created.id, at: '2024-06-01T00:00:00Z' }))).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses tiers without exactly one default, naming the field', async () => {
    await expect(
      h.bus.request('registry.v1.model-definitions.create', envelope({ name: 'two-defaults', matchPattern: 'x', tiers: [{ name: 'a', isDefault: true, prices: { input: '1' } }, { name: 'b', isDefault: true, prices: { input: '1' } }] })),
    ).rejects.toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'tiers' })] });
    await expect(
      h.bus.request('registry.v1.model-definitions.create', envelope({ name: 'no-condition', matchPattern: 'x', tiers: [{ name: 'a', isDefault: true, prices: { input: '1' } }, { name: 'b', isDefault: false, prices: { input: '1' } }] })),
    ).rejects.toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'tiers.1.conditions' })] });
  });

  it('PATCHes name, pattern, tokenizer and priority, audited, and refuses a pattern RE2 cannot compile', async () => {
    const created = await h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('patchable')));
    const patched = await h.bus.request('registry.v1.model-definitions.update', envelope({ id: created.id, name: 'patched', matchPattern: '^patched$', tokenizer: 'approximate' as const, priority: 7 }));
    expect(patched).toMatchObject({ name: 'patched', matchPattern: '^patched$', tokenizer: 'approximate', tokenCount: 'approximate', priority: 7, priceVersions: created.priceVersions });
    await expect(h.bus.request('registry.v1.model-definitions.update', envelope({ id: created.id, matchPattern: '(a)\\1' }))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [expect.objectContaining({ field: 'matchPattern' })],
    });
    // A refused change is audited off the answer's path: wait for its entry.
    const audit = await eventually(
      () => sql<{ outcome: string }>(`SELECT outcome FROM registry.audit_log WHERE target_id = $1 AND action = 'model_definition.updated' ORDER BY at`, [created.id]),
      (rows) => rows.length >= 2,
      'audit entries of the PATCHes',
    );
    expect(audit.map((a) => a.outcome)).toEqual(['succeeded', 'failed']);
  });
});

describe('the built-in catalogue (issue 14 item 6)', () => {
  const repoCatalogue = readCatalogueFile(defaultCataloguePath());

  function withCatalogue(file: string | undefined): ServiceRuntime {
    const config = Object.assign(Object.create(Object.getPrototypeOf(h.runtime.config) as object) as AppConfig, h.runtime.config, { modelCatalogueFile: file });
    return { ...h.runtime, config };
  }

  function catalogueFile(definitions: CatalogueEntry[]): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'catalogue-'));
    const file = path.join(dir, 'catalogue.json');
    writeFileSync(file, JSON.stringify({ description: 'test', generatedAt: new Date().toISOString(), sources: [], definitions, skipped: [] }));
    return file;
  }

  async function systemCounts(): Promise<{ definitions: number; versions: number }> {
    const [row] = await sql<{ definitions: number; versions: number }>(
      `SELECT (SELECT count(*)::int FROM registry.model_definitions WHERE source = 'system') AS definitions,
              (SELECT count(*)::int FROM registry.model_price_tiers t JOIN registry.model_definitions d ON d.id = t.definition_id WHERE d.source = 'system') AS versions`,
    );
    return row;
  }

  it('loads every entry of the repository’s data file at start as a System definition', async () => {
    const rows = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM registry.model_definitions WHERE source = 'system' AND organisation_id = '_system' AND catalogue_key IS NOT NULL`);
    expect(rows[0].n).toBe(repoCatalogue.definitions.length);
  });

  it('applies the same file again on restart without a single change', async () => {
    const before = await systemCounts();
    const updatedAt = await sql(`SELECT id, updated_at FROM registry.model_definitions WHERE source = 'system' ORDER BY id`);
    const again = await startModelRegistry(withCatalogue(undefined));
    await again.close();
    expect(await systemCounts()).toEqual(before);
    expect(await sql(`SELECT id, updated_at FROM registry.model_definitions WHERE source = 'system' ORDER BY id`)).toEqual(updatedAt);
  });

  it('updates from a changed file: a new model is added, a changed price is a new version, the old version stays', async () => {
    const first: CatalogueEntry = {
      key: 'test:model-x',
      source: 'test',
      name: 'test-model-x',
      matchPattern: '^test-model-x$',
      tokenizer: 'approximate',
      effectiveFrom: '2025-01-01T00:00:00.000Z',
      tiers: [{ name: 'Standard', isDefault: true, priority: 0, conditions: [], prices: { input: '0.000001', output: '0.000002' } }],
    };
    const v1 = await startModelRegistry(withCatalogue(catalogueFile([first])));
    await v1.close();
    const changed = { ...first, matchPattern: '(?i)^test-model-x$', tiers: [{ ...first.tiers[0], prices: { input: '0.0000015', output: '0.000002' } }] };
    const added = { ...first, key: 'test:model-y', name: 'test-model-y', matchPattern: '^test-model-y$' };
    const before = Date.now();
    const v2 = await startModelRegistry(withCatalogue(catalogueFile([changed, added])));
    await v2.close();

    const system = await h.bus.request('registry.v1.model-definitions.list', envelope({ source: 'system', limit: 200 }));
    let all = system.items;
    for (let cursor = system.nextCursor; cursor; ) {
      const page = await h.bus.request('registry.v1.model-definitions.list', envelope({ source: 'system', limit: 200, cursor }));
      all = all.concat(page.items);
      cursor = page.nextCursor;
    }
    const x = all.find((d) => d.name === 'test-model-x')!;
    expect(x).toMatchObject({ source: 'system', matchPattern: '(?i)^test-model-x$', tokenizer: 'approximate', tokenCount: 'approximate' });
    expect(x.priceVersions.map((v) => v.prices)).toEqual([
      { input: '0.000001', output: '0.000002' },
      { input: '0.0000015', output: '0.000002' },
    ]);
    expect(x.priceVersions[0].effectiveFrom).toBe('2025-01-01T00:00:00.000Z');
    expect(Date.parse(x.priceVersions[1].effectiveFrom)).toBeGreaterThanOrEqual(before - 1000);
    expect(all.find((d) => d.name === 'test-model-y')?.priceVersions).toHaveLength(1);
  });

  it('serves System definitions to every organisation read-only: get works, PATCH, versions and delete are forbidden', async () => {
    const [row] = await sql<{ id: string }>(`SELECT id FROM registry.model_definitions WHERE source = 'system' AND name = 'gpt-4o'`);
    const got = await h.bus.request('registry.v1.model-definitions.get', envelope({ id: row.id }, ACME));
    expect(got).toMatchObject({ source: 'system', name: 'gpt-4o', tokenizer: 'o200k_base', tokenCount: 'exact' });
    for (const [subject, input] of [
      ['registry.v1.model-definitions.update', { id: row.id, name: 'mine-now' }],
      ['registry.v1.model-definitions.add-version', { id: row.id, prices: { input: '0' } }],
      ['registry.v1.model-definitions.delete', { id: row.id }],
    ] as const) {
      await expect(h.bus.request(subject, envelope(input) as never)).rejects.toMatchObject({ code: 'forbidden', message: expect.stringContaining('User definition') });
    }
    const user = await h.bus.request('registry.v1.model-definitions.list', envelope({ limit: 200 }, ACME));
    expect(user.items.some((d) => d.source === 'system')).toBe(false);
  });
});

describe('last used (issue 14 item 7)', () => {
  it('writes a batch of times in one transaction and never moves a time back', async () => {
    const created = await h.bus.request('registry.v1.model-definitions.create', envelope(modelDefinition('last-used-def')));
    const model = await h.bus.request('registry.v1.provider-models.create', envelope(providerModel('last-used-model')));
    const written = await h.bus.request('registry.v1.last-used.record', {
      definitions: [{ id: created.id, at: '2026-01-02T03:04:05.006Z' }],
      providerModels: [{ organisationId: 'default', name: 'last-used-model', at: '2026-01-02T03:04:05.006Z' }],
    });
    expect(written).toEqual({ definitions: 1, providerModels: 1 });
    const late = await h.bus.request('registry.v1.last-used.record', { definitions: [{ id: created.id, at: '2026-01-01T00:00:00.000Z' }], providerModels: [] });
    expect(late).toEqual({ definitions: 0, providerModels: 0 });
    expect((await h.bus.request('registry.v1.model-definitions.get', envelope({ id: created.id }))).lastUsedAt).toBe('2026-01-02T03:04:05.006Z');
    const [pm] = await sql<{ last_used_at: Date }>(`SELECT last_used_at FROM registry.provider_models WHERE id = $1`, [model.id]);
    expect(pm.last_used_at.toISOString()).toBe('2026-01-02T03:04:05.006Z');
    expect((await h.bus.request('registry.v1.provider-models.get', envelope({ id: model.id }))).lastUsedAt).toBe('2026-01-02T03:04:05.006Z');
    // An edit of the model never moves (or clears) the time metering wrote.
    const edited = await h.bus.request('registry.v1.provider-models.update', envelope({ id: model.id, patch: { displayName: 'Edited' } }));
    expect(edited).toMatchObject({ displayName: 'Edited', lastUsedAt: '2026-01-02T03:04:05.006Z' });
  });

  it('refuses a malformed batch', async () => {
    await expect(h.bus.request('registry.v1.last-used.record', { definitions: [{ id: 'x', at: 'yesterday' }], providerModels: [] })).rejects.toMatchObject({ code: 'validation_failed' });
  });
});

describe('provider models: targets, limits, fallbacks and PATCH (issue 14)', () => {
  const create = (input: Record<string, unknown>, scope: TenantScope = TEST_SCOPE) =>
    h.bus.request('registry.v1.provider-models.create', envelope(input as never, scope));
  const patch = (id: string, body: Record<string, unknown>, scope: TenantScope = TEST_SCOPE) =>
    h.bus.request('registry.v1.provider-models.update', envelope({ id, patch: body as never }, scope));

  it('keeps the first version\'s body working as a one-target, active chat model with the defaults', async () => {
    const made = await create(providerModel('one-target-compat'));
    expect(made).toMatchObject({
      kind: 'chat',
      status: 'active',
      targets: [{ connectionId: 'conn_default', upstreamModel: 'one-target-compat-2024-07-18', weight: 1 }],
      connectionId: 'conn_default',
      fallbacks: [],
      failoverByDefault: false,
      upstreamStreams: true,
      multimodal: false,
      stages: [],
      displayName: null,
      contextWindow: null,
      requestsPerMinute: null,
      tokensPerMinute: null,
      defaultParameters: {},
    });
  });

  it('stores every field of a multi-target model and gives it back', async () => {
    const input = {
      name: 'full-model',
      displayName: 'Full model',
      kind: 'chat',
      targets: [
        { connectionId: 'conn_default', upstreamModel: 'gpt-4o-mini', weight: 3 },
        { connectionId: 'conn_default', upstreamModel: 'gpt-4o-mini-backup' },
      ],
      failoverByDefault: true,
      upstreamStreams: false,
      multimodal: true,
      stages: ['planning', 'guardrail'],
      status: 'active',
      contextWindow: 128_000,
      maxInputTokens: 100_000,
      maxOutputTokens: 16_000,
      requestsPerMinute: 600,
      tokensPerMinute: 1_000_000,
      defaultParameters: { temperature: 0.2, top_p: 0.9, max_tokens: 512, stop: ['END'], presence_penalty: 0.1, frequency_penalty: -0.1, seed: 42 },
    };
    const made = await create(input);
    expect(made).toMatchObject({ ...input, targets: [input.targets[0], { ...input.targets[1], weight: 1 }] });
    await expect(h.bus.request('registry.v1.provider-models.get', envelope({ id: made.id }))).resolves.toEqual(made);
  });

  it('refuses bad fields with validation_failed naming each one', async () => {
    await expect(create({ ...providerModel('bad-window'), contextWindow: 1000, maxInputTokens: 1000, maxOutputTokens: 500 })).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'contextWindow', messages: ['contextWindow (1000) must be larger than maxInputTokens (1000)'] }],
    });
    await expect(create({ name: 'bad-target', targets: [{ connectionId: 'conn_default', upstreamModel: 'x', weight: 0 }] })).rejects.toMatchObject({
      code: 'validation_failed',
      details: [expect.objectContaining({ field: 'targets.0.weight' })],
    });
    await expect(create({ name: 'ghost-target', targets: [{ connectionId: 'conn_default', upstreamModel: 'x' }, { connectionId: 'conn_ghost', upstreamModel: 'y' }] })).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'targets.1.connectionId', messages: ['connection conn_ghost does not exist'] }],
    });
    await expect(create({ ...providerModel('bad-params'), defaultParameters: { temperature: 3, tempo: 1 } })).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'defaultParameters', messages: [expect.stringMatching(/temperature must be between 0 and 2.*tempo is not a known parameter/)] }],
    });
    await expect(create({ ...providerModel('bad-kind'), kind: 'image', stages: ['cooking'] })).rejects.toMatchObject({
      code: 'validation_failed',
      details: expect.arrayContaining([expect.objectContaining({ field: 'kind' }), expect.objectContaining({ field: 'stages' })]),
    });
    await expect(create({ name: 'no-target' })).rejects.toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'connectionId' })] });
  });

  it('refuses a fallback that does not exist or closes a cycle, on create and on PATCH', async () => {
    await expect(create({ ...providerModel('fb-a'), fallbacks: ['fb-nowhere'] })).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'fallbacks', messages: ['fb-nowhere is not a provider model of this organisation'] }],
    });
    const c = await create(providerModel('fb-c'));
    const b = await create({ ...providerModel('fb-b'), fallbacks: ['fb-c'] });
    const a = await create({ ...providerModel('fb-a'), fallbacks: ['fb-b'] });
    expect(a.fallbacks).toEqual(['fb-b']);
    await expect(patch(c.id, { fallbacks: ['fb-a'] })).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'fallbacks', messages: ['the fallbacks form a cycle: fb-c -> fb-a -> fb-b -> fb-c'] }],
    });
    // A model others fall back to can be neither deleted nor renamed while they do.
    await expect(h.bus.request('registry.v1.provider-models.delete', envelope({ id: b.id }))).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('fb-a') });
    await expect(patch(b.id, { name: 'fb-b2' })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('PATCHes any field, leaves the others, clears with null, audits it and announces it', async () => {
    const made = await create({ ...providerModel('patched'), defaultParameters: { temperature: 0.5 } });
    const changed = await patch(made.id, {
      displayName: 'Patched',
      status: 'inactive',
      maxInputTokens: null,
      targets: [{ connectionId: 'conn_default', upstreamModel: 'new-upstream', weight: 2 }],
      defaultParameters: { top_p: 0.5 },
    });
    expect(changed).toMatchObject({
      name: 'patched',
      displayName: 'Patched',
      status: 'inactive',
      maxInputTokens: null,
      maxOutputTokens: 16_384,
      targets: [{ connectionId: 'conn_default', upstreamModel: 'new-upstream', weight: 2 }],
      upstreamModel: 'new-upstream',
      defaultParameters: { top_p: 0.5 },
    });
    expect(changed.updatedAt >= made.updatedAt).toBe(true);
    await expect(h.bus.request('registry.v1.provider-models.get', envelope({ id: made.id }))).resolves.toEqual(changed);
    const audit = await sql<{ action: string; outcome: string }>(`SELECT action, outcome FROM registry.audit_log WHERE target_id = $1 AND action = 'provider_model.updated'`, [made.id]);
    expect(audit).toEqual([{ action: 'provider_model.updated', outcome: 'succeeded' }]);
    await eventually(
      () => h.events.filter((e) => e.subject === 'registry.v1.events.provider-model-changed' && (e.payload as { id: string; change: string }).id === made.id && (e.payload as { change: string }).change === 'updated'),
      (events) => events.length === 1,
      'provider-model-changed (updated)',
    );
  });

  it('refuses a PATCH that breaks a rule, naming the field, and changes nothing', async () => {
    const made = await create({ ...providerModel('patch-refused'), contextWindow: 200_000 });
    await expect(patch(made.id, { maxInputTokens: 300_000 })).rejects.toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'contextWindow' })] });
    await expect(patch(made.id, { name: null })).rejects.toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'name' })] });
    await expect(patch(made.id, { targets: [] })).rejects.toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'targets' })] });
    await expect(h.bus.request('registry.v1.provider-models.get', envelope({ id: made.id }))).resolves.toEqual(made);
    const audit = await eventually(
      () => sql<{ outcome: string }>(`SELECT outcome FROM registry.audit_log WHERE target_id = $1 AND action = 'provider_model.updated'`, [made.id]),
      (rows) => rows.length >= 1,
      'failed update audited',
    );
    expect(audit.every((r) => r.outcome === 'failed')).toBe(true);
  });

  it('hides another organisation\'s model from PATCH as not_found', async () => {
    const theirs = await create(providerModel('acme-patch', 'conn_acme'), ACME);
    await expect(patch(theirs.id, { displayName: 'mine now' })).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('model rewrite rules over the bus', () => {
  it('creates, lists, patches and deletes a rule, announcing each change', async () => {
    const made = await h.bus.request('registry.v1.model-rewrite-rules.create', envelope({ pattern: 'gpt-4o-mini(-.*)?', target: 'team-gpt', position: 5 }));
    expect(made).toMatchObject({ id: expect.stringMatching(/^mrr_/), organisationId: 'default', projectId: null, pattern: 'gpt-4o-mini(-.*)?', target: 'team-gpt', position: 5 });
    const changed = await h.bus.request('registry.v1.model-rewrite-rules.update', envelope({ id: made.id, patch: { target: 'acme/$1' } }));
    expect(changed).toMatchObject({ pattern: 'gpt-4o-mini(-.*)?', target: 'acme/$1', position: 5 });
    const all = await h.bus.request('registry.v1.model-rewrite-rules.all', {});
    expect(all.find((r) => r.id === made.id)).toEqual(changed);
    const page = await h.bus.request('registry.v1.model-rewrite-rules.list', envelope({}));
    expect(page.items.map((r) => r.id)).toContain(made.id);
    await h.bus.request('registry.v1.model-rewrite-rules.delete', envelope({ id: made.id }));
    await expect(h.bus.request('registry.v1.model-rewrite-rules.get', envelope({ id: made.id }))).rejects.toMatchObject({ code: 'not_found' });
    await eventually(
      () => h.events.filter((e) => e.subject === 'registry.v1.events.model-rewrite-rule-changed' && (e.payload as { id: string }).id === made.id),
      (events) => events.length === 3,
      'model-rewrite-rule-changed events',
    );
    const audit = await sql<{ action: string }>(`SELECT action FROM registry.audit_log WHERE target_id = $1 ORDER BY action`, [made.id]);
    expect(audit.map((r) => r.action)).toEqual(['model_rewrite_rule.created', 'model_rewrite_rule.deleted', 'model_rewrite_rule.updated']);
  });

  it('refuses a pattern RE2 cannot run and a target naming a missing group, naming the field', async () => {
    await expect(h.bus.request('registry.v1.model-rewrite-rules.create', envelope({ target: 'x' } as never))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [expect.objectContaining({ field: 'pattern' })],
    });
    await expect(h.bus.request('registry.v1.model-rewrite-rules.create', envelope({ pattern: '(a)\\1', target: 'x' }))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [expect.objectContaining({ field: 'pattern' })],
    });
    await expect(h.bus.request('registry.v1.model-rewrite-rules.create', envelope({ pattern: 'gpt-(.*)', target: 'x-$2' }))).rejects.toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'target', messages: [expect.stringContaining('$2')] }],
    });
  });
});

// Last on purpose: it takes the schema back one migration and forward again.
describe('the provider-model routing migration', () => {
  it('turns a first-version row into an active one-target chat model, and back', async () => {
    const client = new pg.Client({ connectionString: h.databaseUrl });
    await client.connect();
    const queryRunner = { query: (text: string, params?: unknown[]) => client.query(text, params).then((r) => r.rows) } as unknown as QueryRunner;
    try {
      await client.query('SET search_path TO registry');
      const migration = new ProviderModelRouting1765090000000();
      await migration.down(queryRunner);
      await client.query(
        `INSERT INTO provider_models (id, organisation_id, project_id, name, connection_id, upstream_model, max_input_tokens, max_output_tokens)
         VALUES ('pm_old', 'migrated-org', null, 'old-model', 'conn_old', 'gpt-old', 1000, 100)`,
      );
      await migration.up(queryRunner);
      const [row] = (await client.query(`SELECT * FROM provider_models WHERE id = 'pm_old'`)).rows;
      expect(row).toMatchObject({
        name: 'old-model',
        kind: 'chat',
        status: 'active',
        targets: [{ connectionId: 'conn_old', upstreamModel: 'gpt-old', weight: 1 }],
        fallbacks: [],
        failover_by_default: false,
        upstream_streams: true,
        default_parameters: {},
        max_input_tokens: 1000,
        max_output_tokens: 100,
      });
      expect(row).not.toHaveProperty('connection_id');
    } finally {
      await client.end();
    }
    // The service reads the migrated row like any other.
    const all = await h.bus.request('registry.v1.provider-models.all', {});
    expect(all.find((m) => m.id === 'pm_old')).toMatchObject({ connectionId: 'conn_old', upstreamModel: 'gpt-old', targets: [{ connectionId: 'conn_old', upstreamModel: 'gpt-old', weight: 1 }] });
  });
});
