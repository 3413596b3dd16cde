import type { ProviderAdapterV2 } from '#libs/adapter-sdk';
import type { BusClient } from '#libs/bus';
import type { CommandEnvelope, RecordConnectionTestDto, ResolvedConnection } from '#libs/contracts';
import { SecretRedactor } from '#libs/secret-redaction';
import type { Principal } from '../auth/principal.js';
import type { ReadModelService } from '../read-model/read-model.service.js';
import type { UpstreamCallCommand, UpstreamCallResult, UpstreamCallService } from '../v1/upstream-call.service.js';
import { ConnectionTestService, TEST_PROMPT, type MonotonicClock } from './connection-test.service.js';

const SECRET = 'sk-secret-value-0001';
const admin: Principal = { keyId: 'key_1', name: 'alice', role: 'admin', organisationId: 'org_1', projectId: null };

function connection(extra: Partial<ResolvedConnection> = {}): ResolvedConnection {
  return {
    id: 'conn_1',
    organisationId: 'org_1',
    projectId: null,
    name: 'c',
    slug: 'c',
    adapter: 'openai',
    baseUrl: 'https://api.example/v1',
    apiKey: SECRET,
    headers: {},
    settings: {},
    secrets: { apiKey: SECRET },
    status: 'active',
    updatedAt: '',
    ...extra,
  };
}

/** The service over fakes of exactly what it uses: the read model, the upstream call, the bus and a clock that moves 42 ms per call. */
function serviceWith(opts: { connections: ResolvedConnection[]; result: (cmd: UpstreamCallCommand) => UpstreamCallResult }) {
  const recorded: CommandEnvelope<RecordConnectionTestDto>[] = [];
  const calls: UpstreamCallCommand[] = [];
  let refreshed = 0;
  const readModel = {
    connection: (id: string) => opts.connections.find((c) => c.id === id),
    refresh: async () => {
      refreshed++;
    },
    redactorOf: (c: ResolvedConnection) => SecretRedactor.forSecrets(Object.values(c.secrets)),
  } as unknown as ReadModelService;
  const upstream = {
    call: async (cmd: UpstreamCallCommand) => {
      calls.push(cmd);
      return opts.result(cmd);
    },
  } as unknown as UpstreamCallService;
  const bus = {
    request: async (_subject: string, envelope: CommandEnvelope<RecordConnectionTestDto>) => {
      recorded.push(envelope);
      return { status: envelope.input.ok ? 'active' : 'error' };
    },
  } as unknown as BusClient;
  let t = 1000;
  const clock = { now: () => (t += 42) - 42 } as MonotonicClock;
  return { service: new ConnectionTestService(readModel, upstream, bus, clock), recorded, calls, refreshes: () => refreshed };
}

const adapterAnswering = (parsed: ReturnType<NonNullable<ProviderAdapterV2['chat']>['parseResponse']>) =>
  ({ chat: { parseResponse: () => parsed } }) as unknown as ProviderAdapterV2;

describe('ConnectionTestService', () => {
  it("sends the one-line prompt to the upstream model through the connection, answers the text and latency, and records success", async () => {
    const { service, recorded, calls } = serviceWith({
      connections: [connection()],
      result: (cmd) => ({
        ok: true,
        answer: {
          route: cmd.route,
          attempts: 1,
          target: cmd.route.targets[0],
          adapter: adapterAnswering({ value: { choices: [{ index: 0, finishReason: 'stop', content: [{ type: 'text', text: 'Yes.' }, { type: 'text', text: ' Reachable.' }] }] } }),
          passThrough: false,
          warnings: [],
          status: 200,
          headers: {},
          body: { kind: 'whole', bytes: Buffer.from('{}') },
        },
      }),
    });
    await expect(service.test({ principal: admin, connectionId: 'conn_1', upstreamModel: 'gpt-4o-mini' })).resolves.toEqual({ ok: true, text: 'Yes. Reachable.', latencyMs: 42, status: 'active' });
    expect(calls[0]).toMatchObject({ operation: 'chat', stream: false, route: { targets: [{ upstreamModel: 'gpt-4o-mini', connection: { id: 'conn_1' } }] } });
    expect(calls[0]!.canonical()).toMatchObject({ value: { messages: [{ role: 'user', content: [{ type: 'text', text: TEST_PROMPT }] }] } });
    expect(recorded).toEqual([{ scope: { organisationId: 'org_1', projectId: null }, actor: { keyId: 'key_1', name: 'alice' }, input: { id: 'conn_1', ok: true } }]);
  });

  it('answers the failure kind and message, and records it for the status', async () => {
    const { service, recorded } = serviceWith({
      connections: [connection()],
      result: () => ({ ok: false, failure: { kind: 'auth', message: 'Incorrect API key provided', retryable: false, upstreamStatus: 401 }, warnings: [] }),
    });
    await expect(service.test({ principal: admin, connectionId: 'conn_1', upstreamModel: 'm' })).resolves.toEqual({
      ok: false,
      errorKind: 'auth',
      message: 'Incorrect API key provided',
      latencyMs: 42,
      status: 'error',
    });
    expect(recorded[0]!.input).toEqual({ id: 'conn_1', ok: false, errorKind: 'auth', message: 'Incorrect API key provided' });
  });

  it("redacts the connection's secrets from an answer the adapter could not decode", async () => {
    const { service } = serviceWith({
      connections: [connection()],
      result: (cmd) => ({
        ok: true,
        answer: {
          route: cmd.route,
          attempts: 1,
          target: cmd.route.targets[0],
          adapter: adapterAnswering({ error: { kind: 'upstream_error', message: `bad body echoing ${SECRET}`, retryable: false } }),
          passThrough: false,
          warnings: [],
          status: 200,
          headers: {},
          body: { kind: 'whole', bytes: Buffer.from('x') },
        },
      }),
    });
    const result = await service.test({ principal: admin, connectionId: 'conn_1', upstreamModel: 'm' });
    expect(result).toMatchObject({ ok: false, errorKind: 'upstream_error' });
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('tests an inactive connection (an admin checks it before routing it again)', async () => {
    const { service, calls } = serviceWith({
      connections: [connection({ status: 'inactive' })],
      result: () => ({ ok: false, failure: { kind: 'upstream_unreachable', message: 'The upstream provider could not be reached.', retryable: true }, warnings: [] }),
    });
    await service.test({ principal: admin, connectionId: 'conn_1', upstreamModel: 'm' });
    expect(calls).toHaveLength(1);
  });

  it("re-reads the read model once for a connection it does not have, then answers not_found; another organisation's is not_found too", async () => {
    const { service, calls, refreshes } = serviceWith({ connections: [connection({ id: 'conn_other', organisationId: 'org_2' })], result: () => ({ ok: false, failure: { kind: 'auth', message: '', retryable: false }, warnings: [] }) });
    await expect(service.test({ principal: admin, connectionId: 'conn_missing', upstreamModel: 'm' })).rejects.toMatchObject({ code: 'not_found' });
    expect(refreshes()).toBe(1);
    await expect(service.test({ principal: admin, connectionId: 'conn_other', upstreamModel: 'm' })).rejects.toMatchObject({ code: 'not_found' });
    expect(calls).toHaveLength(0);
  });

  it('refuses a project admin the test of an organisation-wide connection, without calling the provider', async () => {
    const { service, calls } = serviceWith({ connections: [connection()], result: () => ({ ok: false, failure: { kind: 'auth', message: '', retryable: false }, warnings: [] }) });
    await expect(service.test({ principal: { ...admin, projectId: 'proj_a' }, connectionId: 'conn_1', upstreamModel: 'm' })).rejects.toMatchObject({ code: 'forbidden' });
    expect(calls).toHaveLength(0);
  });
});
