import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildConnector } from 'undici';
import { guardedFetch, refusalIn, UpstreamRedirectRefused } from './guarded-fetch.js';
import { HostResolver } from './host-resolver.js';
import { UpstreamAddressPolicy } from './upstream-address-policy.js';
import { UpstreamAddressRefused } from './upstream-address-refused.js';

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

/** A real HTTP server that records what reaches it. */
async function startServer(host: string, handler: (path: string, res: import('node:http').ServerResponse) => void): Promise<{ server: Server; port: number; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    handler(req.url ?? '', res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port, paths };
}

describe('guardedFetch', () => {
  let allowed: Awaited<ReturnType<typeof startServer>>;
  let forbidden: Awaited<ReturnType<typeof startServer>>;
  const dials: string[] = [];
  const realConnect = buildConnector({ timeout: 2_000 });
  const recordingConnect: ReturnType<typeof buildConnector> = (options, callback) => {
    dials.push(options.hostname);
    realConnect(options, callback);
  };

  beforeAll(async () => {
    forbidden = await startServer('127.0.0.1', (_path, res) => res.end('{"access_token":"stolen"}'));
    allowed = await startServer('127.0.0.2', (path, res) => {
      if (path === '/redirect') {
        res.writeHead(302, { location: `http://127.0.0.1:${forbidden.port}/token` }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"ok"}');
    });
  });

  afterAll(async () => {
    await new Promise((r) => allowed.server.close(r));
    await new Promise((r) => forbidden.server.close(r));
  });

  beforeEach(() => {
    dials.length = 0;
  });

  function setup(answers: Record<string, string[]>, allowList = '127.0.0.2/32', timeoutMs = 5_000) {
    const resolver = new ScriptedResolver(answers);
    const guarded = guardedFetch({ policy: UpstreamAddressPolicy.fromAllowList(allowList), resolver, connectTimeoutMs: 2_000, timeoutMs, connect: recordingConnect });
    return { resolver, guarded };
  }

  it('fetches from a name resolving to an allowed address, dialling the checked address', async () => {
    const { guarded, resolver } = setup({ 'login.example.test': ['127.0.0.2'] });
    try {
      const res = await guarded.fetch(`http://login.example.test:${allowed.port}/tenant/oauth2/v2.0/token`, { method: 'POST', body: 'grant_type=client_credentials' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ access_token: 'ok' });
      expect(resolver.lookups).toEqual(['login.example.test']);
      expect(dials).toEqual(['127.0.0.2']);
    } finally {
      await guarded.close();
    }
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'cloud-metadata'],
  ])('refuses a token endpoint whose name resolves to %s at call time and never dials it', async (address, addressClass) => {
    const { guarded } = setup({ 'token.example.test': [address] });
    try {
      const err = await guarded.fetch(`http://token.example.test:${forbidden.port}/token`, { method: 'POST' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamAddressRefused);
      expect(err).toMatchObject({ host: 'token.example.test', addressClass, address });
      expect(dials).toEqual([]);
      expect(forbidden.paths).toEqual([]);
    } finally {
      await guarded.close();
    }
  });

  it('refuses the metadata host name before resolving it', async () => {
    const { guarded, resolver } = setup({ 'metadata.google.internal': ['169.254.169.254'] });
    try {
      await expect(guarded.fetch('http://metadata.google.internal/computeMetadata/v1/token')).rejects.toMatchObject({ addressClass: 'cloud-metadata' });
      expect(resolver.lookups).toEqual([]);
      expect(dials).toEqual([]);
    } finally {
      await guarded.close();
    }
  });

  it('does not follow a redirect, even to where the guard would refuse; the target is never dialled', async () => {
    const { guarded } = setup({}, '127.0.0.0/8');
    try {
      const err = await guarded.fetch(`http://127.0.0.2:${allowed.port}/redirect`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamRedirectRefused);
      expect(err).toMatchObject({ status: 302, message: expect.stringContaining('does not follow') });
      expect(dials).toEqual(['127.0.0.2']);
      expect(forbidden.paths).toEqual([]);
    } finally {
      await guarded.close();
    }
  });

  it('times out an endpoint that never answers', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.2', resolve));
    const { guarded } = setup({}, '127.0.0.2/32', 300);
    try {
      const started = Date.now();
      await expect(guarded.fetch(`http://127.0.0.2:${(silent.address() as AddressInfo).port}/token`)).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await guarded.close();
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it('finds a refusal along a cause chain', () => {
    const refused = new UpstreamAddressRefused('h', 'loopback', '127.0.0.1');
    expect(refusalIn(new Error('outer', { cause: new Error('inner', { cause: refused }) }))).toBe(refused);
    expect(refusalIn(new Error('plain'))).toBeUndefined();
  });
});
