import { adminCall } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';

/** The slice a replica leases at a time (apps/gateway/src/limits/sliced-budgets.ts); a slice + 1 is the documented tolerance per replica. */
const sliceOf = (limit: number) => Math.max(1, Math.ceil(limit / 20));

/**
 * Issue 15.4 through the running product: a provider model's requests and tokens per minute, held
 * across the gateway replicas (two in distributed mode, sharing one limit over the gateway's own
 * schema; one in embedded mode), counted by the answers clients got and the calls the provider saw.
 */
describe('rate limits per provider model across gateway replicas', () => {
  let fake: FakeOpenAI;
  let product: Product;
  let clientKey: string;
  let connectionId: string;

  const createModel = async (body: Record<string, unknown>) => {
    await adminCall(product, 'POST', '/admin/provider-models', { connectionId, ...body });
    // Routable on every replica.
    for (const url of product.gatewayUrls) {
      const deadline = Date.now() + 10_000; // set-up wait: change events take a second, longer on a busy machine
      for (;;) {
        const res = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${clientKey}` } });
        if (((await res.json()) as { data: { id: string }[] }).data.some((m) => m.id === body.name)) break;
        if (Date.now() > deadline) throw new Error(`${String(body.name)} not routable on ${url}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  };

  const chat = async (url: string, model: string, extra: Record<string, unknown> = {}, key = clientKey) => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as { error?: { code: string; message: string }; usage?: { total_tokens: number } } };
  };

  /** Limits count per wall-clock minute: start a measurement with at least `ms` of the minute left. */
  const awaitMinuteRoom = async (ms: number) => {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < ms) await new Promise((r) => setTimeout(r, left + 50));
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI({ defaultBehaviour: { kind: 'completion', usage: { promptTokens: 5, completionTokens: 5 } } });
    product = await startProduct({ gatewayReplicas: 2 });
    if (product.mode === 'distributed') expect(product.gatewayUrls).toHaveLength(2);
    clientKey = (await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: 'limits-client' })).key;
    connectionId = (await adminCall<{ id: string }>(product, 'POST', '/admin/connections', { name: 'limits-conn', adapter: 'openai-compatible', baseUrl: fake.url, apiKey: 'sk-up' })).id;
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  beforeEach(() => fake.reset());

  it('requestsPerMinute: the replicas together admit the limit (plus at most a slice and one call each) in a minute; the rest get 429 naming the limit, and never reach the provider', async () => {
    const limit = 20;
    await createModel({ name: 'rpm-model', upstreamModel: 'rpm-upstream', requestsPerMinute: limit });
    await awaitMinuteRoom(30_000);
    const urls = product.gatewayUrls;
    const answers: Awaited<ReturnType<typeof chat>>[] = [];
    const spentEverywhere = () => answers.length >= 8 && answers.slice(-8).every((a) => a.status === 429 && Number(a.headers.get('retry-after')) > 1);
    // Calls 4 at a time, spread over the replicas, until every replica says the minute's budget is spent.
    for (let i = 0; i < 300 && !spentEverywhere(); i += 4) answers.push(...(await Promise.all([0, 1, 2, 3].map((j) => chat(urls[(i + j) % urls.length]!, 'rpm-model')))));
    expect(spentEverywhere()).toBe(true);
    const admitted = answers.filter((a) => a.status === 200).length;
    // The whole budget was used, and at most a slice and one call more per replica.
    expect(admitted).toBeGreaterThanOrEqual(limit);
    expect(admitted).toBeLessThanOrEqual(limit + urls.length * (sliceOf(limit) + 1));
    expect(fake.requests).toHaveLength(admitted);
    for (const r of answers.filter((a) => a.status !== 200)) {
      expect(r.status).toBe(429);
      expect(r.body.error!.code).toBe('rate_limit_exceeded');
      expect(r.body.error!.message).toContain('requestsPerMinute');
      expect(r.headers.get('x-gateway-rate-limit')).toBe('model.requestsPerMinute');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    }
    // Anthropic's format refuses the same way.
    const msg = await fetch(`${urls[0]}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': clientKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'rpm-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(msg.status).toBe(429);
    expect(((await msg.json()) as { error: { type: string } }).error.type).toBe('rate_limit_error');
  }, 90_000);

  it('tokensPerMinute: admitted on an estimate (prompt bytes / 4 + max_tokens), settled with the real usage, so small answers are not over-counted', async () => {
    const limit = 200;
    await createModel({ name: 'tpm-model', upstreamModel: 'tpm-upstream', tokensPerMinute: limit });
    await awaitMinuteRoom(20_000);
    const url = product.gatewayUrls[0]!;
    let admitted = 0;
    let used = 0;
    let spentInARow = 0;
    // Until the minute's budget is spent (refusals asking to wait past the next second).
    for (let i = 0; i < 300 && spentInARow < 3; i++) {
      // Estimated at ~1 + 60 tokens each; each really uses 10.
      const answer = await chat(url, 'tpm-model', { max_tokens: 60 });
      if (answer.status === 200) {
        admitted++;
        used += answer.body.usage!.total_tokens;
        spentInARow = 0;
      } else {
        expect(answer.status).toBe(429);
        expect(answer.headers.get('x-gateway-rate-limit')).toBe('model.tokensPerMinute');
        spentInARow = Number(answer.headers.get('retry-after')) > 1 ? spentInARow + 1 : 0;
      }
    }
    expect(spentInARow).toBe(3);
    // Without settling, 200 / 61 = 3 calls; settled at 10 real tokens each, about 20.
    expect(admitted).toBeGreaterThanOrEqual(10);
    // The real usage stays within the limit plus one call's estimate (the tolerance of one replica).
    expect(used).toBeLessThanOrEqual(limit + 61);
  }, 90_000);

  it("a gateway key's requestsPerMinute holds across models and replicas; its view shows it; a bad value is refused naming the field", async () => {
    const bad = await fetch(`${product.url}/admin/gateway-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bad-limit', requestsPerMinute: 0 }),
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('requestsPerMinute');
    const limit = 6;
    const created = await adminCall<{ key: string; requestsPerMinute: number | null; tokensPerMinute: number | null }>(product, 'POST', '/admin/gateway-keys', { name: 'limited-key', requestsPerMinute: limit });
    expect(created).toMatchObject({ requestsPerMinute: limit, tokensPerMinute: null });
    await createModel({ name: 'free-model-a', upstreamModel: 'free-a' });
    await createModel({ name: 'free-model-b', upstreamModel: 'free-b' });
    // Until the new key (with its limit) is known on every replica: GET /v1/models is not rate limited.
    for (const url of product.gatewayUrls) {
      const deadline = Date.now() + 5000;
      while ((await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${created.key}` } })).status !== 200) {
        if (Date.now() > deadline) throw new Error(`the limited key never reached ${url}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    await awaitMinuteRoom(15_000);
    const urls = product.gatewayUrls;
    const answers: Awaited<ReturnType<typeof chat>>[] = [];
    // Until every replica says the key's minute is spent (a refusal while a replica waits for its lease asks for 1 s).
    const spent = () => answers.length >= 6 && answers.slice(-6).every((a) => a.status === 429 && Number(a.headers.get('retry-after')) > 1);
    for (let i = 0; i < 300 && !spent(); i++) answers.push(await chat(urls[i % urls.length]!, i % 3 === 0 ? 'free-model-a' : 'free-model-b', {}, created.key));
    expect(spent()).toBe(true);
    const admitted = answers.filter((a) => a.status === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(limit);
    expect(admitted).toBeLessThanOrEqual(limit + urls.length * (sliceOf(limit) + 1));
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.headers.get('x-gateway-rate-limit')).toBe('key.requestsPerMinute');
    expect(refused.body.error!.message).toContain('limited-key');
    // Other keys are not held by it.
    expect((await chat(urls[0]!, 'free-model-a')).status).toBe(200);
  }, 90_000);
});
