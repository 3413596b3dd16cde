import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminCall } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';
import { RecordingListener } from '../support/e2e/recording-listener.js';
import { startFakeAzureOpenAI, startFakeGemini, type FakeAzureOpenAI, type FakeGemini } from '../support/fake-upstream/index.js';

/**
 * Server-side request forgery through the OAuth token endpoints adapters call while building a
 * request (azure-openai's Entra ID authority, a vertex-ai service account's token_uri). The product
 * runs with UPSTREAM_ALLOWLIST=127.0.0.2/32: the fakes on 127.0.0.2 are allowed, a recording
 * listener on 127.0.0.1 stands for every internal service and must receive nothing. `localhost`
 * passes the create-time check (a name) and is refused when the token fetch resolves it.
 */

const ENTRA_TOKEN = 'entra-access-token-guarded-1';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** A Microsoft Entra ID token endpoint on `host`, counting its calls. */
async function startFakeEntra(host: string): Promise<{ url: string; paths: string[]; close(): Promise<void> }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      paths.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: ENTRA_TOKEN }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, paths, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const serviceAccountJson = (tokenUri: string): string =>
  JSON.stringify({
    type: 'service_account',
    project_id: 'acme-guarded-1',
    private_key_id: 'kid-guarded',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: 'gateway@acme-guarded-1.iam.gserviceaccount.com',
    token_uri: tokenUri,
  });

interface ErrorBody {
  error: { code: string; message: string; details?: Array<{ field: string; messages: string[] }> };
}

describe('token endpoint addresses', () => {
  let product: Product;
  let listener: RecordingListener;
  let listenerPort: number;
  let azure: FakeAzureOpenAI;
  let entra: Awaited<ReturnType<typeof startFakeEntra>>;
  let gemini: FakeGemini;
  let clientKey: string;
  let seq = 0;

  const admin = (method: string, path: string, body: unknown) =>
    fetch(`${product.url}${path}`, { method, headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  /** A connection and a model on it; the model's name. */
  async function modelOn(connection: Record<string, unknown>, upstreamModel: string): Promise<string> {
    const n = ++seq;
    const created = await adminCall<{ id: string }>(product, 'POST', '/admin/connections', { name: `guarded-${n}-${Date.now()}`, ...connection });
    const name = `guarded-model-${n}`;
    await adminCall(product, 'POST', '/admin/provider-models', { name, connectionId: created.id, upstreamModel });
    const deadline = Date.now() + 10_000; // set-up wait: change events take a second, longer on a busy machine
    for (;;) {
      const res = await fetch(`${product.url}/v1/models`, { headers: { authorization: `Bearer ${clientKey}` } });
      if (res.status === 200 && ((await res.json()) as { data: { id: string }[] }).data.some((m) => m.id === name)) return name;
      if (Date.now() > deadline) throw new Error(`${name} not routable`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  const chat = (model: string) =>
    fetch(`${product.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });

  beforeAll(async () => {
    listener = new RecordingListener();
    listenerPort = await listener.listen('127.0.0.1');
    azure = await startFakeAzureOpenAI({ host: '127.0.0.2', bearerToken: ENTRA_TOKEN });
    entra = await startFakeEntra('127.0.0.2');
    gemini = await startFakeGemini({ host: '127.0.0.2', serviceAccountPublicKey: publicKey });
    product = await startProduct({ env: { UPSTREAM_ALLOWLIST: '127.0.0.2/32' } });
    clientKey = (await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: 'guarded-client' })).key;
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await azure?.close();
    await entra?.close();
    await gemini?.close();
    await listener?.close();
  }, 60_000);

  afterEach(async () => {
    // Whatever a test did, nothing may have reached the forbidden listener (give a stray connect time to land).
    await new Promise((r) => setTimeout(r, 200));
    expect(listener.connections).toEqual([]);
  });

  const entraConnection = (authorityUrl: string) => ({
    adapter: 'azure-openai',
    baseUrl: azure.url,
    settings: { apiStyle: 'v1', tenantId: 'tenant-g', clientId: 'client-g', clientSecret: 'entra-secret-guarded', authorityUrl },
  });
  const vertexConnection = (tokenUri: string) => ({ adapter: 'vertex-ai', baseUrl: gemini.url, settings: { location: 'europe-west4', serviceAccountJson: serviceAccountJson(tokenUri) } });

  describe('azure-openai (Entra ID authority)', () => {
    it('fetches a token from an allowed authority and calls with it', async () => {
      const model = await modelOn(entraConnection(entra.url), 'gpt-4o-mini');
      for (let i = 0; i < 2; i++) expect((await chat(model)).status).toBe(200);
      expect(entra.paths).toEqual(['/tenant-g/oauth2/v2.0/token']);
    });

    it('refuses an authority that resolves to loopback at call time with 502 upstream_address_refused, never dialling it nor calling Azure', async () => {
      const model = await modelOn(entraConnection(`http://localhost:${listenerPort}`), 'gpt-4o-mini');
      const before = azure.requests.length;
      const res = await chat(model);
      const body = (await res.json()) as ErrorBody;
      expect(res.status).toBe(502);
      expect(body.error.code).toBe('upstream_address_refused');
      expect(body.error.message).toContain('localhost is a loopback address');
      expect(body.error.message).toContain('UPSTREAM_ALLOWLIST');
      expect(azure.requests.length).toBe(before);
    });
  });

  describe('vertex-ai (service-account token_uri)', () => {
    it('fetches a token from an allowed token_uri and calls with it', async () => {
      const before = gemini.tokenFetches;
      const model = await modelOn(vertexConnection(gemini.tokenUri), 'gemini-2.5-flash');
      for (let i = 0; i < 2; i++) expect((await chat(model)).status).toBe(200);
      expect(gemini.tokenFetches).toBe(before + 1);
    });

    it.each([
      ['127.0.0.1', 'loopback'],
      ['169.254.169.254', 'cloud metadata'],
      ['[::ffff:127.0.0.1]', 'loopback'],
    ])('refuses to create a connection whose token_uri is on %s with 400 naming settings.serviceAccountJson', async (host, addressClass) => {
      const res = await admin('POST', '/admin/connections', { name: `vertex-forbidden-${Date.now()}`, ...vertexConnection(`http://${host}:${listenerPort}/token`) });
      const body = (await res.json()) as ErrorBody;
      expect(res.status).toBe(400);
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.details).toEqual([{ field: 'settings.serviceAccountJson', messages: [expect.stringContaining(`${addressClass} address`)] }]);
      expect(body.error.details![0]!.messages[0]).toContain('token_uri');
      expect(body.error.details![0]!.messages[0]).toContain('UPSTREAM_ALLOWLIST');
    });

    it('refuses a PATCH that puts the token_uri on the metadata address, keeping the stored key', async () => {
      const created = await adminCall<{ id: string }>(product, 'POST', '/admin/connections', { name: `vertex-patched-${Date.now()}`, ...vertexConnection(gemini.tokenUri) });
      const res = await admin('PATCH', `/admin/connections/${created.id}`, { settings: { serviceAccountJson: serviceAccountJson('http://169.254.169.254/token') } });
      const body = (await res.json()) as ErrorBody;
      expect(res.status).toBe(400);
      expect(body.error.details).toEqual([{ field: 'settings.serviceAccountJson', messages: [expect.stringContaining('cloud metadata address')] }]);
    });

    it('refuses a token_uri that resolves to loopback at call time with 502 upstream_address_refused, never dialling it nor calling Vertex', async () => {
      const model = await modelOn(vertexConnection(`http://localhost:${listenerPort}/token`), 'gemini-2.5-flash');
      const before = gemini.requests.length;
      const res = await chat(model);
      const body = (await res.json()) as ErrorBody;
      expect(res.status).toBe(502);
      expect(body.error.code).toBe('upstream_address_refused');
      expect(body.error.message).toContain('localhost is a loopback address');
      expect(gemini.requests.length).toBe(before);
    });
  });
});
