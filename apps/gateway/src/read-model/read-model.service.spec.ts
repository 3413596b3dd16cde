import type { BusClient } from '#libs/bus';
import type { DefinitionTokenizerView, ModelRewriteRuleView, ProviderModelView, ResolvedConnection, TokenizerId } from '#libs/contracts';
import { REDACTED } from '#libs/secret-redaction';
import type { Principal } from '../auth/principal.js';
import type { ApiKeysRepository } from '../keys/api-keys.repository.js';
import { ReadModelService } from './read-model.service.js';

const principal: Principal = { keyId: 'key_1', name: 'client', role: 'client', organisationId: 'org_1', projectId: null };

function connection(apiKey: string, headers: Record<string, string> = {}, extra: Partial<ResolvedConnection> = {}): ResolvedConnection {
  return {
    id: 'conn_1',
    organisationId: 'org_1',
    projectId: null,
    name: 'c',
    slug: 'c',
    adapter: 'openai-compatible',
    baseUrl: 'http://127.0.0.1:1/v1',
    apiKey,
    headers,
    settings: {},
    secrets: apiKey ? { apiKey } : {},
    status: 'active',
    updatedAt: '',
    ...extra,
  };
}

function providerModel(overrides: Partial<ProviderModelView> = {}): ProviderModelView {
  return {
    id: 'pm_1',
    organisationId: 'org_1',
    projectId: null,
    name: 'm',
    displayName: null,
    kind: 'chat',
    targets: [{ connectionId: 'conn_1', upstreamModel: 'u', weight: 1 }],
    connectionId: 'conn_1',
    upstreamModel: 'u',
    fallbacks: [],
    failoverByDefault: false,
    upstreamStreams: true,
    multimodal: false,
    stages: [],
    status: 'active',
    contextWindow: null,
    maxInputTokens: null,
    maxOutputTokens: null,
    requestsPerMinute: null,
    tokensPerMinute: null,
    defaultParameters: {},
    createdAt: '',
    updatedAt: '',
    lastUsedAt: null,
    ...overrides,
  };
}

const model = providerModel();

function rule(pattern: string, target: string, position = 100, projectId: string | null = null): ModelRewriteRuleView {
  return { id: `mrr_${pattern}`, organisationId: 'org_1', projectId, pattern, target, position, createdAt: '', updatedAt: '' };
}

/** The read model over a bus that answers with `connections()` as they are at each read; the rules in the order the registry gives them. */
async function readModelWith(
  connections: () => ResolvedConnection[],
  models: ProviderModelView[] = [model],
  rules: ModelRewriteRuleView[] = [],
  tokenizers: DefinitionTokenizerView[] = [],
): Promise<ReadModelService> {
  const answers: Record<string, () => unknown> = {
    'vault.v1.connections.resolve-page': () => ({ items: connections(), next: null }),
    'registry.v1.model-rewrite-rules.all': () => rules,
    'registry.v1.model-definitions.tokenizers': () => tokenizers,
    'registry.v1.provider-models.all': () => models,
  };
  const bus = { request: async (subject: string) => answers[subject]!() } as unknown as BusClient;
  const readModel = new ReadModelService(bus, {} as ApiKeysRepository);
  await Promise.all([readModel.refresh('connections'), readModel.refresh('providerModels'), readModel.refresh('rewriteRules'), readModel.refresh('tokenizers')]);
  return readModel;
}

describe('ReadModelService redactors', () => {
  it("routes with a redactor for the connection's API key and header values", async () => {
    const readModel = await readModelWith(() => [connection('sk-current-key-0001', { 'x-org-secret': 'org-secret-0001', 'x-flag': 'true' })]);
    const { redactor } = readModel.route(principal, 'm')!.targets[0];
    expect(redactor.redact('key sk-current-key-0001, header org-secret-0001, flag true')).toBe(`key ${REDACTED}, header ${REDACTED}, flag true`);
  });

  it("keeps a connection's redactor while its secrets are unchanged, and builds a new one when they change", async () => {
    let current = connection('sk-first-key-0001');
    const readModel = await readModelWith(() => [current]);
    const first = readModel.route(principal, 'm')!.targets[0].redactor;
    current = { ...connection('sk-first-key-0001'), name: 'renamed' };
    await readModel.refresh('connections');
    expect(readModel.route(principal, 'm')!.targets[0].redactor).toBe(first);

    current = connection('sk-second-key-0002');
    await readModel.refresh('connections');
    const second = readModel.route(principal, 'm')!.targets[0].redactor;
    expect(second).not.toBe(first);
    expect(second.redact('sk-second-key-0002')).toBe(REDACTED);
  });
});

describe('ReadModelService typed connections', () => {
  it("redacts every secret field of the connection's adapter, not only the API key", async () => {
    const readModel = await readModelWith(() => [
      connection('', {}, { secrets: { accessKeyId: 'AKIAEXAMPLEKEY01', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' }, settings: { region: 'eu-west-1' } }),
    ]);
    const { redactor } = readModel.route(principal, 'm')!.targets[0];
    expect(redactor.redact('AKIAEXAMPLEKEY01 signed with wJalrXUtnFEMI/K7MDENG/bPxRfiCY in eu-west-1')).toBe(`${REDACTED} signed with ${REDACTED} in eu-west-1`);
  });

  it('does not route the models of an inactive connection, nor list them, but still knows the connection', async () => {
    let status: ResolvedConnection['status'] = 'inactive';
    const readModel = await readModelWith(() => [connection('sk-current-key-0001', {}, { status })]);
    expect(readModel.route(principal, 'm')).toBeUndefined();
    expect(readModel.modelsFor(principal)).toEqual([]);
    expect(readModel.connection('conn_1')?.status).toBe('inactive');

    status = 'error';
    await readModel.refresh('connections');
    expect(readModel.route(principal, 'm')?.targets[0].connection.status).toBe('error');
    expect(readModel.modelsFor(principal)).toHaveLength(1);
  });
});

describe('ReadModelService model addressing', () => {
  const conn = (id: string, name: string, extra: Partial<ResolvedConnection> & { slug?: string } = {}): ResolvedConnection => ({
    ...connection('sk-0000000000000001'),
    id,
    name,
    ...extra,
  });
  const models = [
    providerModel({ name: 'team-gpt', targets: [{ connectionId: 'conn_1', upstreamModel: 'gpt-4o-mini', weight: 1 }, { connectionId: 'conn_2', upstreamModel: 'gpt-4o', weight: 3 }] }),
    providerModel({ id: 'pm_2', name: 'acme/exact', targets: [{ connectionId: 'conn_1', upstreamModel: 'registered', weight: 1 }] }),
    providerModel({ id: 'pm_3', name: 'retired', status: 'inactive' }),
    providerModel({ id: 'pm_4', name: 'p2-only', projectId: 'p2' }),
  ];
  const connections = () => [conn('conn_1', 'Acme Prod', { slug: 'acme' }), conn('conn_2', 'My Ollama!', { slug: 'my-ollama' }), conn('conn_3', 'p2 box', { projectId: 'p2', slug: 'box' })];

  it('resolves an exact provider-model name to its targets first, even when the name looks like slug/model', async () => {
    const readModel = await readModelWith(connections, models);
    const route = readModel.route(principal, 'team-gpt')!;
    expect(route.targets.map((t) => [t.connection.id, t.upstreamModel, t.weight])).toEqual([
      ['conn_1', 'gpt-4o-mini', 1],
      ['conn_2', 'gpt-4o', 3],
    ]);
    expect(readModel.route(principal, 'acme/exact')!.targets[0].upstreamModel).toBe('registered');
  });

  it('reaches any model of a connection by slug/model', async () => {
    const readModel = await readModelWith(connections, models);
    const bySlug = readModel.route(principal, 'acme/some-unlisted-model')!;
    expect(bySlug).toMatchObject({ name: 'acme/some-unlisted-model' });
    expect(bySlug.kind).toBeUndefined();
    expect(bySlug.model).toBeUndefined();
    expect(bySlug.targets[0]).toMatchObject({ upstreamModel: 'some-unlisted-model', connection: { id: 'conn_1' } });
    expect(readModel.route(principal, 'my-ollama/llama3:8b')!.targets[0]).toMatchObject({ upstreamModel: 'llama3:8b', connection: { id: 'conn_2' } });
    // Another project's connection is out of reach.
    expect(readModel.resolve(principal, 'box/x')).toMatchObject({ ok: false, error: { status: 404, code: 'model_not_found' } });
    expect(readModel.route({ ...principal, projectId: 'p2' }, 'box/x')!.targets[0].connection.id).toBe('conn_3');
  });

  it('applies the first matching rewrite rule in position order, then resolves its target', async () => {
    // The registry gives rules in position order; the read model keeps that order.
    const rules = [rule('gpt-4o-mini.*', 'team-gpt', 1), rule('claude-(.*)', 'nowhere-$1', 2), rule('gpt-4o-mini(-.*)?', 'acme/x$1', 5), rule('(.*)-via-acme', 'acme/$1', 6)];
    const readModel = await readModelWith(connections, models, rules);
    expect(readModel.route(principal, 'gpt-4o-mini-2024')!.name).toBe('team-gpt');
    expect(readModel.route(principal, 'mistral-large-via-acme')!.targets[0]).toMatchObject({ upstreamModel: 'mistral-large', connection: { id: 'conn_1' } });
    expect(readModel.resolve(principal, 'claude-3')).toMatchObject({
      ok: false,
      error: { status: 404, message: expect.stringContaining('rewritten to `nowhere-3`') },
    });
  });

  it('takes URI model parameters after the name, and refuses an unknown or invalid one naming it', async () => {
    const readModel = await readModelWith(connections, models);
    expect(readModel.route(principal, 'team-gpt:temperature=0.2,top_p=0.9')).toMatchObject({ name: 'team-gpt', uriParameters: { temperature: 0.2, top_p: 0.9 } });
    expect(readModel.route(principal, 'my-ollama/llama3:8b:seed=4')).toMatchObject({ targets: [{ upstreamModel: 'llama3:8b' }], uriParameters: { seed: 4 } });
    expect(readModel.resolve(principal, 'team-gpt:temprature=0.2')).toMatchObject({
      ok: false,
      error: { status: 400, code: 'invalid_model_parameter', message: expect.stringContaining('`temprature` is not a known model parameter') },
    });
    expect(readModel.resolve(principal, 'team-gpt:temperature=9')).toMatchObject({
      ok: false,
      error: { status: 400, message: expect.stringContaining('temperature must be between 0 and 2') },
    });
    // An unknown base name is 404 whatever its parameters.
    expect(readModel.resolve(principal, 'ghost:temperature=0.2')).toMatchObject({ ok: false, error: { status: 404 } });
  });

  it("answers 404 naming GET /v1/models for an unknown name, an inactive model, another project's model and an unknown slug", async () => {
    const readModel = await readModelWith(connections, models);
    for (const name of ['ghost', 'retired', 'p2-only', 'nope/model', 'acme/', 'team-gpt:fast']) {
      expect(readModel.resolve(principal, name)).toMatchObject({
        ok: false,
        error: { status: 404, code: 'model_not_found', param: 'model', message: expect.stringContaining('GET /v1/models') },
      });
    }
    expect(readModel.modelsFor(principal).map((m) => m.name).sort()).toEqual(['acme/exact', 'team-gpt']);
  });

  it('sees a change of the provider models at the next read', async () => {
    let current = models;
    const bus = {
      request: async (subject: string) => (subject === 'vault.v1.connections.resolve-page' ? { items: connections(), next: null } : subject === 'registry.v1.model-rewrite-rules.all' || subject === 'registry.v1.model-definitions.tokenizers' ? [] : current),
    } as unknown as BusClient;
    const readModel = new ReadModelService(bus, {} as ApiKeysRepository);
    await Promise.all([readModel.refresh('connections'), readModel.refresh('providerModels'), readModel.refresh('rewriteRules')]);
    expect(readModel.route(principal, 'retired')).toBeUndefined();
    current = models.map((m) => (m.name === 'retired' ? { ...m, status: 'active' } : m));
    await readModel.refresh('providerModels');
    expect(readModel.route(principal, 'retired')).toBeDefined();
  });
});

describe('ReadModelService tokenizers', () => {
  const definition = (id: string, matchPattern: string, tokenizer: TokenizerId, extra: Partial<DefinitionTokenizerView> = {}): DefinitionTokenizerView => ({
    id,
    organisationId: 'org_1',
    projectId: null,
    matchPattern,
    tokenizer,
    source: 'user',
    priority: 0,
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  });

  it('answers the tokenizer of the definition that prices the model, by the same winner rule as metering', async () => {
    const readModel = await readModelWith(() => [connection('sk-0000000000000001')], [model], [], [
      definition('sys_gpt', '^gpt-', 'o200k_base', { organisationId: '__system__', source: 'system' }),
      definition('sys_old', '^gpt-3\\.5', 'cl100k_base', { organisationId: '__system__', source: 'system', priority: 1 }),
      definition('user_claude', '^claude-', 'approximate'),
      definition('p2_gpt', '^gpt-4o', 'cl100k_base', { projectId: 'p2' }),
      definition('broken', '(', 'o200k_base'),
      definition('other_org', '^mistral', 'approximate', { organisationId: 'org_2' }),
    ]);
    expect(readModel.tokenizerFor(principal, 'gpt-4o-mini')).toBe('o200k_base');
    expect(readModel.tokenizerFor(principal, 'gpt-3.5-turbo')).toBe('cl100k_base'); // higher priority
    expect(readModel.tokenizerFor(principal, 'claude-sonnet-4')).toBe('approximate');
    expect(readModel.tokenizerFor({ ...principal, projectId: 'p2' }, 'gpt-4o-mini')).toBe('cl100k_base'); // the project's own first
    expect(readModel.tokenizerFor(principal, 'mistral-large')).toBeUndefined(); // another organisation's
    expect(readModel.tokenizerFor(principal, 'llama3')).toBeUndefined();
  });
});
