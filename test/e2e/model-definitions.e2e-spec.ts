import OpenAI from 'openai';
import request from 'supertest';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { routeModel, waitForCostReport, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

interface DefinitionBody {
  id: string;
  name: string;
  source: string;
  tokenizer: string;
  tokenCount: string;
  priority: number;
  lastUsedAt: string | null;
  priceVersions: { effectiveFrom: string; prices: Record<string, string>; tiers: { name: string }[] }[];
  preview: { effectiveFrom: string; tiers: { name: string; usageTypes: { usageType: string; perUnit: string; per1K: string; per1M: string; inheritedFrom: string | null }[] }[] } | null;
}

/**
 * Model definitions through the product (issue 14 items 4-7): the admin routes with Swagger, the
 * built-in catalogue pricing a call with no definition made by hand, a User definition overriding
 * it, and "last used" shown in the view.
 */
describe('model definitions, end to end', () => {
  let fake: FakeOpenAI;
  let product: Product;
  let admin: (method: 'get' | 'post' | 'patch' | 'delete', path: string) => request.Test;
  let route: RoutedModel;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    product = await startProduct();
    admin = (method, path) => request(product.url)[method](path).set('authorization', `Bearer ${product.adminKey}`);
    // No prices: the call must be priced from the built-in catalogue alone.
    route = await routeModel(product, { upstreamUrl: fake.url, modelName: 'catalogue-gpt', upstreamModel: 'gpt-4o-mini' });
    await waitUntilRoutable(product, route);
    client = new OpenAI({ apiKey: route.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
  }, 180_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  it('documents every model-definition route in Swagger', async () => {
    const docs = await request(product.url).get('/docs-json');
    expect(docs.status).toBe(200);
    const paths = docs.body.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths['/admin/model-definitions']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(paths['/admin/model-definitions/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
    expect(Object.keys(paths['/admin/model-definitions/{id}/versions'])).toEqual(['post']);
    expect(Object.keys(paths['/admin/model-definitions/{id}/preview'])).toEqual(['get']);
    const schemas = docs.body.components.schemas as Record<string, { properties: Record<string, unknown> }>;
    expect(Object.keys(schemas.ModelDefinitionView.properties)).toEqual(expect.arrayContaining(['source', 'tokenCount', 'priority', 'priceVersions', 'preview', 'lastUsedAt']));
    expect(Object.keys(schemas.PriceTierDto.properties)).toEqual(expect.arrayContaining(['name', 'isDefault', 'priority', 'conditions', 'prices']));
  });

  it('lists the built-in catalogue as System definitions, apart from the organisation’s own', async () => {
    const system = await admin('get', '/admin/model-definitions?source=system&limit=200');
    expect(system.status).toBe(200);
    const names = (system.body.items as DefinitionBody[]).map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['gpt-4o', 'gpt-4o-mini']));
    expect((system.body.items as DefinitionBody[]).every((d) => d.source === 'system')).toBe(true);
    const own = await admin('get', '/admin/model-definitions');
    expect((own.body.items as DefinitionBody[]).some((d) => d.source === 'system')).toBe(false);
    const bad = await admin('get', '/admin/model-definitions?source=everything');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'source' })] });
  });

  it('prices a call of a gateway model whose upstream id matches a catalogue entry, with no definition made by hand', async () => {
    fake.enqueue({ kind: 'completion', content: 'Priced by the catalogue.', usage: { promptTokens: 1000, completionTokens: 500 } });
    const completion = await client.chat.completions.create({ model: 'catalogue-gpt', messages: [{ role: 'user', content: 'hello' }] });
    expect(completion.model).toBe('gpt-4o-mini');
    // Catalogue (Langfuse) gpt-4o-mini: 1000 x 0.00000015 + 500 x 0.0000006 = 0.00015 + 0.0003 = 0.00045
    const report = await waitForCostReport(product, (r) => r.groups.some((g) => g.key === 'gpt-4o-mini' && g.requests === 1 && g.unpricedRequests === 0));
    const group = report.groups.find((g) => g.key === 'gpt-4o-mini')!;
    expect(group).toMatchObject({ requests: 1, unpricedRequests: 0, cost: '0.00045' });
  });

  it('shows when the catalogue definition last priced a call, kept from metering', async () => {
    const system = await admin('get', '/admin/model-definitions?source=system&limit=200');
    let items = system.body.items as DefinitionBody[];
    for (let cursor = system.body.nextCursor as string | null; cursor; ) {
      const page = await admin('get', `/admin/model-definitions?source=system&limit=200&cursor=${encodeURIComponent(cursor)}`);
      items = items.concat(page.body.items as DefinitionBody[]);
      cursor = page.body.nextCursor as string | null;
    }
    const mini = items.find((d) => d.name === 'gpt-4o-mini')!;
    const deadline = Date.now() + 10_000;
    let lastUsedAt: string | null = null;
    while (lastUsedAt === null && Date.now() < deadline) {
      lastUsedAt = ((await admin('get', `/admin/model-definitions/${mini.id}`)).body as DefinitionBody).lastUsedAt;
      if (lastUsedAt === null) await new Promise((r) => setTimeout(r, 100));
    }
    expect(lastUsedAt).not.toBeNull();
    expect(Math.abs(Date.parse(lastUsedAt!) - Date.now())).toBeLessThan(120_000);
    const patch = await admin('patch', `/admin/model-definitions/${mini.id}`).send({ name: 'mine-now' });
    expect(patch.status).toBe(403);
    expect(patch.body.error.code).toBe('forbidden');
  });

  it('prices the next call with a User definition for the same model instead of the catalogue', async () => {
    const created = await admin('post', '/admin/model-definitions').send({
      name: 'our-gpt-4o-mini',
      matchPattern: '^gpt-4o-mini$',
      tokenizer: 'o200k_base',
      effectiveFrom: '2024-01-01T00:00:00Z',
      prices: { input: '0.000001', output: '0.000002' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ source: 'user', tokenCount: 'exact' });
    // Metering learns of definitions by reloading them all on a change event. A probe model priced by
    // a definition made after ours is priced only once a reload that included ours is done: wait for that.
    const probe = await routeModel(product, { upstreamUrl: fake.url, prices: { input: '0.000001', output: '0.000001' } });
    await waitUntilRoutable(product, probe);
    await new OpenAI({ apiKey: probe.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: probe.modelName, messages: [{ role: 'user', content: 'probe' }] });
    await waitForCostReport(product, (r) => r.groups.some((g) => g.key === probe.upstreamModel && g.unpricedRequests === 0));
    fake.enqueue({ kind: 'completion', content: 'Priced by our own definition.', usage: { promptTokens: 1000, completionTokens: 500 } });
    await client.chat.completions.create({ model: 'catalogue-gpt', messages: [{ role: 'user', content: 'hello again' }] });
    // 0.00045 before, plus 1000 x 0.000001 + 500 x 0.000002 = 0.002: 0.00245
    const report = await waitForCostReport(product, (r) => r.groups.some((g) => g.key === 'gpt-4o-mini' && g.requests === 2));
    expect(report.groups.find((g) => g.key === 'gpt-4o-mini')).toMatchObject({ requests: 2, cost: '0.00245' });
  });

  it('creates with tiers, edits with PATCH, changes prices by a new version, and previews in exact decimals', async () => {
    const created = await admin('post', '/admin/model-definitions').send({
      name: 'tiered-model',
      matchPattern: '^tiered-model$',
      tokenizer: 'approximate',
      effectiveFrom: '2025-01-01T00:00:00Z',
      tiers: [
        { name: 'standard', isDefault: true, prices: { input: '0.000000075', output: '0.0000003' } },
        { name: 'long context', isDefault: false, priority: 1, conditions: [{ usageTypes: ['input', 'cache_read', 'cache_write'], operator: 'gt', value: 200000 }], prices: { input: '0.00000015' } },
      ],
    });
    expect(created.status).toBe(201);
    const body = created.body as DefinitionBody;
    expect(body.tokenCount).toBe('approximate');
    expect(body.preview?.tiers.map((t) => t.name)).toEqual(['standard', 'long context']);

    const preview = await admin('get', `/admin/model-definitions/${body.id}/preview`);
    expect(preview.status).toBe(200);
    const standard = (preview.body as NonNullable<DefinitionBody['preview']>).tiers[0].usageTypes;
    expect(standard.find((u) => u.usageType === 'input')).toEqual({ usageType: 'input', perUnit: '0.000000075', per1K: '0.000075', per1M: '0.075', inheritedFrom: null });
    expect(standard.find((u) => u.usageType === 'reasoning')).toEqual({ usageType: 'reasoning', perUnit: '0.0000003', per1K: '0.0003', per1M: '0.3', inheritedFrom: 'output' });

    const patched = await admin('patch', `/admin/model-definitions/${body.id}`).send({ matchPattern: '(?i)^tiered-model(-\\d+)?$', priority: 3 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ matchPattern: '(?i)^tiered-model(-\\d+)?$', priority: 3, priceVersions: body.priceVersions });

    const at = new Date(Date.now() + 3_600_000).toISOString();
    const versioned = await admin('post', `/admin/model-definitions/${body.id}/versions`).send({ effectiveFrom: at, prices: { input: '0.0000001', output: '0.0000004' } });
    expect(versioned.status).toBe(201);
    expect((versioned.body as DefinitionBody).priceVersions.map((v) => v.effectiveFrom)).toEqual(['2025-01-01T00:00:00.000Z', at]);
    expect((versioned.body as DefinitionBody).priceVersions[0]).toEqual(body.priceVersions[0]);
    const later = await admin('get', `/admin/model-definitions/${body.id}/preview?at=${encodeURIComponent(at)}`);
    expect(later.body.effectiveFrom).toBe(at);
  });

  it('answers bad input with the field named, never a stack trace', async () => {
    const tiers = await admin('post', '/admin/model-definitions').send({
      name: 'bad-tiers',
      matchPattern: 'x',
      tiers: [{ name: 'standard', isDefault: true, prices: { input: 0.0000001 } }],
    });
    expect(tiers.status).toBe(400);
    expect(tiers.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ field: 'tiers.0.prices' })] });
    const operator = await admin('post', '/admin/model-definitions').send({
      name: 'bad-operator',
      matchPattern: 'x',
      tiers: [
        { name: 'standard', isDefault: true, prices: { input: '1' } },
        { name: 'big', isDefault: false, conditions: [{ usageTypes: ['input'], operator: 'above', value: 1 }], prices: { input: '2' } },
      ],
    });
    expect(operator.status).toBe(400);
    expect(operator.body.error.details).toEqual([expect.objectContaining({ field: 'tiers.1.conditions.0.operator' })]);
    const both = await admin('post', '/admin/model-definitions').send({ name: 'both', matchPattern: 'x', prices: { input: '1' }, tiers: [{ name: 'd', isDefault: true, prices: { input: '1' } }] });
    expect(both.status).toBe(400);
    expect(both.body.error.details).toEqual([expect.objectContaining({ field: 'prices' })]);
    const past = await admin('get', '/admin/model-definitions?source=user');
    const anyId = (past.body.items as DefinitionBody[])[0].id;
    const backdated = await admin('post', `/admin/model-definitions/${anyId}/versions`).send({ effectiveFrom: '2020-01-01T00:00:00Z', prices: { input: '1' } });
    expect(backdated.status).toBe(400);
    expect(backdated.body.error.details).toEqual([expect.objectContaining({ field: 'effectiveFrom' })]);
    expect(JSON.stringify([tiers.body, operator.body, both.body, backdated.body])).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });
});
