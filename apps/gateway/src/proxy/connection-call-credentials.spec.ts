import { ProcessEnvironment } from '#libs/config';
import type { ResolvedConnection } from '#libs/contracts';
import { ConnectionCallCredentials, type CallIdentity } from './connection-call-credentials.js';

function connection(over: Partial<ResolvedConnection> = {}): ResolvedConnection {
  return {
    id: 'conn_1',
    organisationId: 'org',
    projectId: null,
    name: 'primary',
    slug: 'primary',
    adapter: 'openai',
    baseUrl: 'https://api.example',
    apiKey: 'sk-stored',
    headers: {},
    settings: {},
    secrets: { apiKey: 'sk-stored' },
    status: 'active',
    updatedAt: new Date(0).toISOString(),
    ...over,
  };
}

const identity: CallIdentity = { user: 'search-svc', email: '', model: 'gpt-4o', requestId: 'req_42' };

describe('ConnectionCallCredentials', () => {
  it('hands out the stored secrets and headers as they are when there is nothing to resolve (no allocation per call)', () => {
    const c = connection({ headers: { 'x-team': 'a' } });
    const first = ConnectionCallCredentials.of(c).forCall(new ProcessEnvironment({}), identity);
    const second = ConnectionCallCredentials.of(c).forCall(new ProcessEnvironment({}), identity);
    expect(first).toEqual({ ok: true, secrets: { apiKey: 'sk-stored' }, headers: { 'x-team': 'a' } });
    expect(second).toBe(first);
  });

  it('reads a secret from the environment at each call, so a changed variable is used at once', () => {
    const c = connection({ apiKey: '', secrets: {}, secretEnvVars: { apiKey: 'OPENAI_KEY' } });
    const env: Record<string, string | undefined> = { OPENAI_KEY: 'sk-env-1' };
    const creds = ConnectionCallCredentials.of(c);
    expect(creds.forCall(new ProcessEnvironment(env), identity)).toMatchObject({ ok: true, secrets: { apiKey: 'sk-env-1' } });
    env.OPENAI_KEY = 'sk-env-2';
    expect(creds.forCall(new ProcessEnvironment(env), identity)).toMatchObject({ ok: true, secrets: { apiKey: 'sk-env-2' } });
  });

  it('refuses the call, naming the variable, when it is unset or empty: never a call with an empty key', () => {
    const c = connection({ apiKey: '', secrets: { region: 'x' }, secretEnvVars: { apiKey: 'OPENAI_KEY' } });
    for (const env of [{}, { OPENAI_KEY: '' }]) {
      const result = ConnectionCallCredentials.of(c).forCall(new ProcessEnvironment(env), identity);
      expect(result).toEqual({ ok: false, message: expect.stringContaining('OPENAI_KEY (apiKey) is not set') });
    }
    expect(ConnectionCallCredentials.of(c).unsetVariables(new ProcessEnvironment({}))).toEqual(['OPENAI_KEY']);
  });

  it('renders header templates per call with the caller, model, request id and the (environment) key', () => {
    const c = connection({
      apiKey: '',
      secrets: {},
      secretEnvVars: { apiKey: 'OPENAI_KEY' },
      headers: { 'x-user': '{{user}}', 'x-trace': '{{request_id}}/{{model}}', 'x-auth': 'Token {{api_key}}', 'x-static': 'v' },
    });
    const result = ConnectionCallCredentials.of(c).forCall(new ProcessEnvironment({ OPENAI_KEY: 'sk-env' }), { ...identity, user: "o'neil <ops>" });
    expect(result).toEqual({
      ok: true,
      secrets: { apiKey: 'sk-env' },
      headers: { 'x-user': "o'neil <ops>", 'x-trace': 'req_42/gpt-4o', 'x-auth': 'Token sk-env', 'x-static': 'v' },
    });
  });

  it('removes line breaks a value brings, so a caller cannot add a header', () => {
    const c = connection({ headers: { 'x-model': '{{model}}' } });
    const result = ConnectionCallCredentials.of(c).forCall(new ProcessEnvironment({}), { ...identity, model: 'gpt\r\nx-admin: 1' });
    expect(result).toMatchObject({ ok: true, headers: { 'x-model': 'gptx-admin: 1' } });
  });
});
