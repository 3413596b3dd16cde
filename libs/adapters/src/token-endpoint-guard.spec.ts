import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildConnector } from 'undici';
import type { CallTarget, ChatOperation, ChatRequest, ProviderAdapterV2 } from '#libs/adapter-sdk';
import { guardedFetch, HostResolver, refusalIn, UpstreamAddressPolicy, UpstreamAddressRefused, type GuardedFetch } from '#libs/upstream-guard';
import { createAzureOpenAIAdapter } from './azure-openai/azure-openai.adapter.js';
import { createVertexAIAdapter } from './gemini/vertex-ai.adapter.js';

/**
 * The OAuth token fetches adapters make while building a request (Entra ID, a Vertex service
 * account's token_uri) go through the call's guarded fetch: a token endpoint whose name resolves to
 * a forbidden address at call time is refused and never dialled; an allowed one works and its token
 * is cached as before.
 */

/** DNS answers scripted per name. */
class ScriptedResolver extends HostResolver {
  readonly lookups: string[] = [];
  constructor(private readonly answers: Record<string, string[]>) {
    super();
  }
  async resolve(host: string): Promise<string[]> {
    this.lookups.push(host);
    const answer = this.answers[host];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return answer;
  }
}

const request: ChatRequest = { model: 'gw', stream: false, includeUsage: false, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] };
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('token endpoints behind the upstream guard', () => {
  let tokenServer: Server;
  let tokenPort: number;
  const tokenRequests: string[] = [];
  let forbidden: Server;
  let forbiddenPort: number;
  const forbiddenRequests: string[] = [];
  const dials: string[] = [];
  const realConnect = buildConnector({ timeout: 2_000 });
  let guarded: GuardedFetch;
  let resolver: ScriptedResolver;

  beforeAll(async () => {
    tokenServer = createServer((req, res) => {
      tokenRequests.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `tok-${tokenRequests.length}`, token_type: 'Bearer', expires_in: 3599 }));
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.2', resolve));
    tokenPort = (tokenServer.address() as AddressInfo).port;
    forbidden = createServer((req, res) => {
      forbiddenRequests.push(req.url ?? '');
      res.end('{"access_token":"stolen"}');
    });
    await new Promise<void>((resolve) => forbidden.listen(0, '127.0.0.1', resolve));
    forbiddenPort = (forbidden.address() as AddressInfo).port;
    guarded = guardedFetch({
      policy: UpstreamAddressPolicy.fromAllowList('127.0.0.2/32'),
      resolver: (resolver = new ScriptedResolver({
        'login.allowed.test': ['127.0.0.2'],
        // Another origin on the same server, so the Vertex test dials its own socket rather than reusing Entra's.
        'oauth.allowed.test': ['127.0.0.2'],
        'login.loopback.test': ['127.0.0.1'],
        'login.metadata.test': ['169.254.169.254'],
      })),
      connectTimeoutMs: 2_000,
      timeoutMs: 5_000,
      connect: (options, callback) => {
        dials.push(options.hostname);
        realConnect(options, callback);
      },
    });
  });

  afterAll(async () => {
    await guarded.close();
    await new Promise((r) => tokenServer.close(r));
    await new Promise((r) => forbidden.close(r));
  });

  beforeEach(() => {
    dials.length = 0;
    tokenRequests.length = 0;
    resolver.lookups.length = 0;
  });

  afterEach(() => expect(forbiddenRequests).toEqual([]));

  async function refusal(adapter: ProviderAdapterV2, target: CallTarget): Promise<UpstreamAddressRefused | undefined> {
    const err = await (adapter.chat as ChatOperation).buildRequest(request, target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    return refusalIn(err);
  }

  describe('azure-openai (Entra ID)', () => {
    const entraTarget = (host: string, fetch?: CallTarget['fetch']): CallTarget => ({
      baseUrl: 'https://my-res.openai.azure.com',
      upstreamModel: 'gpt-4o',
      settings: { apiVersion: '2024-10-21', tenantId: 'tenant-1', clientId: 'client-1', authorityUrl: `http://${host}:${host === 'login.allowed.test' ? tokenPort : forbiddenPort}` },
      secrets: { clientSecret: 'cs' },
      ...(fetch ? { fetch } : {}),
    });

    it.each([
      ['login.loopback.test', '127.0.0.1', 'loopback'],
      ['login.metadata.test', '169.254.169.254', 'cloud-metadata'],
    ])('refuses an authority whose name resolves to %s (%s) at call time, never dialling it', async (host, address, addressClass) => {
      const refused = await refusal(createAzureOpenAIAdapter(), entraTarget(host, guarded.fetch));
      expect(refused).toMatchObject({ host, address, addressClass });
      expect(dials).toEqual([]);
    });

    it('fetches from an allowed authority through the guard, once for many calls', async () => {
      const op = createAzureOpenAIAdapter().chat as ChatOperation;
      const target = entraTarget('login.allowed.test', guarded.fetch);
      const built = await Promise.all([op.buildRequest(request, target), op.buildRequest(request, target)]);
      expect(built.map((b) => b.request.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1']);
      expect((await op.buildRequest(request, target)).request.headers.authorization).toBe('Bearer tok-1');
      expect(tokenRequests).toEqual(['/tenant-1/oauth2/v2.0/token']);
      expect(dials).toEqual(['127.0.0.2']);
    });

    it('never falls back to the global fetch when the call brings no guarded fetch', async () => {
      const err = await (createAzureOpenAIAdapter().chat as ChatOperation).buildRequest(request, entraTarget('login.allowed.test')).catch((e: unknown) => e);
      expect(err).toMatchObject({ message: expect.stringContaining('CallTarget.fetch') });
      expect(tokenRequests).toEqual([]);
    });
  });

  describe('vertex-ai (service-account token_uri)', () => {
    const vertexTarget = (host: string, fetch?: CallTarget['fetch']): CallTarget => ({
      baseUrl: 'https://us-central1-aiplatform.googleapis.com',
      upstreamModel: 'gemini-2.5-flash',
      settings: { project: 'p', location: 'us-central1' },
      secrets: {
        serviceAccountJson: JSON.stringify({
          type: 'service_account',
          client_email: `gw-${host}@p.iam.gserviceaccount.com`,
          private_key: PEM,
          token_uri: `http://${host}:${host === 'oauth.allowed.test' ? tokenPort : forbiddenPort}/token`,
        }),
      },
      ...(fetch ? { fetch } : {}),
    });

    it.each([
      ['login.loopback.test', '127.0.0.1', 'loopback'],
      ['login.metadata.test', '169.254.169.254', 'cloud-metadata'],
    ])('refuses a token_uri whose name resolves to %s (%s) at call time, never dialling it', async (host, address, addressClass) => {
      const refused = await refusal(createVertexAIAdapter(), vertexTarget(host, guarded.fetch));
      expect(refused).toMatchObject({ host, address, addressClass });
      expect(dials).toEqual([]);
      // Final: google-auth-library's transporter does not retry a refusal.
      expect(resolver.lookups).toEqual([host]);
    });

    it('fetches from an allowed token_uri through the guard, once for many calls', async () => {
      const op = createVertexAIAdapter().chat as ChatOperation;
      const target = vertexTarget('oauth.allowed.test', guarded.fetch);
      const built = await Promise.all([op.buildRequest(request, target), op.buildRequest(request, target)]);
      expect(built.map((b) => b.request.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-1']);
      expect((await op.buildRequest(request, target)).request.headers.authorization).toBe('Bearer tok-1');
      expect(tokenRequests).toEqual(['/token']);
      expect(dials).toEqual(['127.0.0.2']);
    });

    it('never falls back to the library\'s own fetch when the call brings no guarded fetch', async () => {
      const err = await (createVertexAIAdapter().chat as ChatOperation).buildRequest(request, vertexTarget('oauth.allowed.test')).catch((e: unknown) => e);
      expect(err).toMatchObject({ message: expect.stringContaining('CallTarget.fetch') });
      expect(tokenRequests).toEqual([]);
    });
  });
});
