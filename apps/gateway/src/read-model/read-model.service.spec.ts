import type { BusClient } from '#libs/bus';
import type { ProviderModelView, ResolvedConnection } from '#libs/contracts';
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

const model: ProviderModelView = {
  id: 'pm_1',
  organisationId: 'org_1',
  projectId: null,
  name: 'm',
  connectionId: 'conn_1',
  upstreamModel: 'u',
  maxInputTokens: null,
  maxOutputTokens: null,
  createdAt: '',
  updatedAt: '',
};

/** The read model over a bus that answers with `connections()` as they are at each read. */
async function readModelWith(connections: () => ResolvedConnection[]): Promise<ReadModelService> {
  const bus = {
    request: async (subject: string) => (subject === 'vault.v1.connections.resolve-all' ? connections() : [model]),
  } as unknown as BusClient;
  const readModel = new ReadModelService(bus, {} as ApiKeysRepository);
  await Promise.all([readModel.refresh('connections'), readModel.refresh('providerModels')]);
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
