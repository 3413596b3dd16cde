import OpenAI from 'openai';
import { request } from 'undici';
import { adminCall, routeModel, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';
import { RecordingListener } from '../support/e2e/recording-listener.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';

/**
 * Server-side request forgery through upstream addresses (issue 11). The product runs with
 * UPSTREAM_ALLOWLIST=127.0.0.2/32: the fake upstream on 127.0.0.2 is allowed, while a recording
 * listener on 127.0.0.1 stands for every internal service the gateway must not reach. Only
 * loopback is ever connected to; other forbidden classes appear only in create-time refusals.
 */

describe('upstream addresses', () => {
  let fake: FakeOpenAI;
  let listener: RecordingListener;
  let listenerPort: number;
  let product: Product;
  let allowed: RoutedModel;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ host: '127.0.0.2' });
    listener = new RecordingListener();
    listenerPort = await listener.listen('127.0.0.1');
    product = await startProduct({ env: { UPSTREAM_ALLOWLIST: '127.0.0.2/32' } });
    allowed = await routeModel(product, { upstreamUrl: fake.url });
    await waitUntilRoutable(product, allowed);
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
    await listener?.close();
  }, 60_000);

  beforeEach(() => fake.reset());

  afterEach(async () => {
    // Whatever a test did, nothing may have reached the forbidden listener (give a stray connect time to land).
    await new Promise((r) => setTimeout(r, 200));
    expect(listener.connections).toEqual([]);
  });

  it('calls an allow-listed upstream on 127.0.0.2 end to end with the openai client', async () => {
    expect(new URL(fake.url).hostname).toBe('127.0.0.2');
    fake.enqueue({ kind: 'completion', content: 'allowed and answered' });
    const client = new OpenAI({ apiKey: allowed.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: allowed.modelName, messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]?.message.content).toBe('allowed and answered');
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['2130706433', 'loopback'],
    ['127.1', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['[::1]', 'loopback'],
    ['169.254.169.254', 'cloud metadata'],
    ['[::ffff:169.254.169.254]', 'cloud metadata'],
    ['10.0.0.1', 'private-network'],
  ])('refuses to create a connection on %s with 400 validation_failed naming baseUrl, the class and UPSTREAM_ALLOWLIST', async (host, addressClass) => {
    const baseUrl = `http://${host}:${listenerPort}/v1`;
    const res = await fetch(`${product.url}/admin/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `forbidden-${Date.now()}`, adapter: 'openai-compatible', baseUrl, apiKey: 'sk-upstream-test-key-0000' }),
    });
    const body = (await res.json()) as { error: { code: string; message: string; details: Array<{ field: string; messages: string[] }> } };
    expect(res.status).toBe(400);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details).toEqual([{ field: 'baseUrl', messages: [expect.stringContaining(`${addressClass} address`)] }]);
    expect(body.error.details[0]!.messages[0]).toContain('UPSTREAM_ALLOWLIST');
  });

  it('accepts localhost at create, then refuses the connect with 502 upstream_address_refused naming the class and UPSTREAM_ALLOWLIST', async () => {
    const route = await routeModel(product, { upstreamUrl: `http://localhost:${listenerPort}/v1` });
    await waitUntilRoutable(product, route);
    const client = new OpenAI({ apiKey: route.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    for (const stream of [false, true]) {
      const err = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'hi' }], stream }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(err).toMatchObject({ status: 502, code: 'upstream_address_refused', type: 'api_error' });
      const message = (err as InstanceType<typeof OpenAI.APIError>).message;
      expect(message).toContain('localhost is a loopback address');
      expect(message).toContain('UPSTREAM_ALLOWLIST');
    }
    // Logged for the operator, with the address the name resolved to.
    expect(product.output()).toMatch(/refused: connection conn_\S+: localhost \((127\.0\.0\.1|::1)\) is a loopback address/);
  });

  it.each([302, 307])('answers a %i from an allowed upstream with 502 and no Location, and never calls the redirect target', async (status) => {
    const target = `http://127.0.0.1:${listenerPort}/v1/chat/completions`;
    for (const stream of [false, true]) {
      fake.enqueue({
        kind: 'raw',
        status,
        headers: { location: target, 'content-type': stream ? 'text/event-stream' : 'application/json' },
        body: stream ? `data: {"redirect":"${target}"}\n\n` : JSON.stringify({ redirect: target }),
      });
      const res = await request(`${product.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${allowed.clientKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: allowed.modelName, messages: [{ role: 'user', content: 'hi' }], stream }),
      });
      const text = await res.body.text();
      expect(res.statusCode).toBe(502);
      expect(res.headers.location).toBeUndefined();
      expect(text).not.toContain(String(listenerPort));
      expect(JSON.parse(text)).toEqual({
        error: { message: expect.stringContaining('redirect'), type: 'api_error', param: null, code: 'upstream_redirect' },
      });
    }
    expect(fake.requests).toHaveLength(2);
  });

  it('lists no connection whose creation was refused', async () => {
    const page = await adminCall<{ items: Array<{ baseUrl: string }> }>(product, 'GET', '/admin/connections?limit=200');
    const hosts = page.items.map((c) => new URL(c.baseUrl).hostname);
    expect(hosts).toContain('127.0.0.2');
    expect(hosts.filter((h) => h !== '127.0.0.2' && h !== 'localhost')).toEqual([]);
  });
});
