import OpenAI from 'openai';
import { freePort } from '#libs/db';
import { adminCall } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';
import { fakeErrors, startFakeAnthropic, startFakeOpenAI, type FakeAnthropic, type FakeOpenAI } from '../support/fake-upstream/index.js';

interface Connection {
  id: string;
  name: string;
}

interface ChatAnswer {
  choices: { message: { content: string } }[];
  error?: { code: string; message: string; param?: string };
}

/**
 * Issue 15 items 1-3 through the running product: retries (which failures, how many, how long
 * apart), timeouts, no retry after the first byte, failover across targets and fallback models
 * (OpenAI format to Anthropic), the x-gateway-failover header, circuit breakers opening and probing,
 * and weighted balancing. The providers are the fake upstreams; the assertions are on the attempts
 * they saw, their order and the answer the client got.
 */
describe('gateway policy: retries, timeouts, failover, circuit breakers, balancing', () => {
  let openAIFake: FakeOpenAI;
  let anthropicFake: FakeAnthropic;
  let product: Product;
  let clientKey: string;
  let seq = 0;

  const connection = async (settings: Record<string, number>, options: { adapter?: string; baseUrl?: string } = {}): Promise<Connection> =>
    adminCall<Connection>(product, 'POST', '/admin/connections', {
      name: `policy-${++seq}-${Date.now()}`,
      adapter: options.adapter ?? 'openai-compatible',
      baseUrl: options.baseUrl ?? openAIFake.url,
      apiKey: 'sk-upstream-policy-0000',
      settings,
    });

  const model = async (body: { name: string; targets: { connectionId: string; upstreamModel: string; weight?: number }[]; fallbacks?: string[]; failoverByDefault?: boolean }) => {
    await adminCall(product, 'POST', '/admin/provider-models', body);
    await waitForModel(body.name);
  };

  const waitForModel = async (name: string): Promise<void> => {
    const deadline = Date.now() + 10_000; // set-up wait: change events take a second, longer on a busy machine
    for (;;) {
      const res = await fetch(`${product.url}/v1/models`, { headers: { authorization: `Bearer ${clientKey}` } });
      const listed = ((await res.json()) as { data: { id: string }[] }).data;
      if (listed.some((m) => m.id === name)) return;
      if (Date.now() > deadline) throw new Error(`${name} not routable`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const chat = async (modelName: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) => {
    const res = await fetch(`${product.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clientKey}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: modelName, messages: [{ role: 'user', content: 'hi' }], ...extra }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined) as ChatAnswer };
  };

  const upstreamModels = () => openAIFake.requests.map((r) => (r.body as { model: string }).model);

  /** Waits until the gateway knows a new key (its change event): GET /v1/models answers it. */
  const waitForKey = async (key: string): Promise<void> => {
    const deadline = Date.now() + 5000;
    while ((await fetch(`${product.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status !== 200) {
      if (Date.now() > deadline) throw new Error('the new key never reached the gateway');
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  beforeAll(async () => {
    openAIFake = await startFakeOpenAI();
    anthropicFake = await startFakeAnthropic();
    product = await startProduct();
    clientKey = (await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: 'policy-client' })).key;
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await openAIFake?.close();
    await anthropicFake?.close();
  }, 60_000);

  beforeEach(() => {
    openAIFake.reset();
    anthropicFake.reset();
  });

  describe('retries on one target', () => {
    let retrying: Connection;

    beforeAll(async () => {
      retrying = await connection({ maxRetries: 2, retryDelayMs: 20, firstByteTimeoutMs: 400 });
      await model({ name: 'retry-model', targets: [{ connectionId: retrying.id, upstreamModel: 'retry-upstream' }] });
    });

    it('retries 500s up to maxRetries and answers the success', async () => {
      openAIFake.enqueue(fakeErrors.serverError(), fakeErrors.serverError(), { kind: 'completion', content: 'third time lucky' });
      const answer = await chat('retry-model');
      expect(answer.status).toBe(200);
      expect(answer.body.choices[0]!.message.content).toBe('third time lucky');
      expect(openAIFake.requests).toHaveLength(3);
      expect(answer.headers.get('x-gateway-model')).toBe('retry-model');
      expect(answer.headers.get('x-gateway-connection')).toBe(retrying.name);
    });

    it('gives up after maxRetries: 1 + 2 attempts, the last failure answered', async () => {
      openAIFake.setDefault(fakeErrors.serverError());
      const answer = await chat('retry-model');
      expect(answer.status).toBe(502);
      expect(answer.body.error!.code).toBe('upstream_error');
      expect(openAIFake.requests).toHaveLength(3);
    });

    it("waits the provider's retry-after (429) before retrying", async () => {
      openAIFake.enqueue(fakeErrors.rateLimited(1), { kind: 'completion', content: 'after the wait' });
      const started = Date.now();
      const answer = await chat('retry-model');
      expect(answer.status).toBe(200);
      expect(answer.body.choices[0]!.message.content).toBe('after the wait');
      const [first, second] = openAIFake.requests;
      expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    });

    it('never retries a failure that would fail the same way (400 from the provider)', async () => {
      openAIFake.enqueue(fakeErrors.contextLengthExceeded(), { kind: 'completion' });
      const answer = await chat('retry-model');
      expect(answer.status).toBe(400);
      expect(answer.body.error!.code).toBe('context_length_exceeded');
      expect(openAIFake.requests).toHaveLength(1);
    });

    it('a hanging upstream times out at firstByteTimeoutMs and the retry answers', async () => {
      openAIFake.enqueue({ kind: 'delay', ms: 3000 }, { kind: 'completion', content: 'not hanging' });
      const started = Date.now();
      const answer = await chat('retry-model');
      expect(answer.status).toBe(200);
      expect(answer.body.choices[0]!.message.content).toBe('not hanging');
      expect(openAIFake.requests).toHaveLength(2);
      expect(Date.now() - started).toBeLessThan(2500);
    });

    it('never retries once the first byte reached the client: a stream dropped midway ends with an error event, one attempt', async () => {
      openAIFake.enqueue({ kind: 'stream', content: 'one two three four five', breakAfterChunks: 3 });
      const answer = await chat('retry-model', {}, { stream: true });
      expect(answer.status).toBe(200);
      expect(answer.text).toContain('"error"');
      expect(answer.text).not.toContain('[DONE]');
      expect(openAIFake.requests).toHaveLength(1);
    });
  });

  it('totalTimeoutMs bounds a whole call: a slow stream is cut with an error event, and the call ends near the deadline', async () => {
    const slow = await connection({ totalTimeoutMs: 500 });
    await model({ name: 'slow-stream-model', targets: [{ connectionId: slow.id, upstreamModel: 'slow-upstream' }] });
    // 5 s of stream, cut at 0.5 s: well under 5 s proves the cut, with room for a busy machine.
    openAIFake.enqueue({ kind: 'stream', chunks: 50, chunkDelayMs: 100 });
    const started = Date.now();
    const answer = await chat('slow-stream-model', {}, { stream: true });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(answer.text).toContain('upstream_timeout');
    expect(answer.text).not.toContain('[DONE]');
  });

  describe('failover', () => {
    let refused: Connection;
    let healthy: Connection;
    let failing: Connection;
    let anthropicConnection: Connection;

    beforeAll(async () => {
      // Nothing listens on this port: every connect is refused.
      refused = await connection({ maxRetries: 1, retryDelayMs: 10 }, { baseUrl: `http://127.0.0.1:${await freePort()}/v1` });
      healthy = await connection({});
      failing = await connection({ circuitFailureThreshold: 0 });
      anthropicConnection = await connection({}, { adapter: 'anthropic', baseUrl: anthropicFake.url });
      await model({ name: 'claude-fallback', targets: [{ connectionId: anthropicConnection.id, upstreamModel: 'claude-haiku-4-5-20251001' }] });
      await model({
        name: 'refused-then-healthy',
        targets: [
          { connectionId: refused.id, upstreamModel: 'refused-upstream', weight: 1000 },
          { connectionId: healthy.id, upstreamModel: 'healthy-upstream', weight: 1 },
        ],
        failoverByDefault: true,
      });
      await model({ name: 'openai-then-claude', targets: [{ connectionId: failing.id, upstreamModel: 'failing-upstream' }], fallbacks: ['claude-fallback'], failoverByDefault: false });
    }, 60_000);

    it('a target refusing connections is retried, then the call moves to the next target; the answer names the model and connection that served it', async () => {
      const answer = await chat('refused-then-healthy');
      expect(answer.status).toBe(200);
      expect(upstreamModels()).toEqual(['healthy-upstream']);
      expect(answer.headers.get('x-gateway-connection')).toBe(healthy.name);
      expect(answer.headers.get('x-gateway-model')).toBe('refused-then-healthy');
    });

    it('x-gateway-failover: off keeps the call on the first target (no failover), so the refused connection is answered', async () => {
      // With weight 1000:1 the refused target comes first almost always; repeat until it did.
      for (let i = 0; i < 5; i++) {
        openAIFake.reset();
        const answer = await chat('refused-then-healthy', { 'x-gateway-failover': 'off' });
        if (answer.status === 200) continue; // the balancer picked the healthy one first (1 in 1001)
        expect(answer.status).toBe(502);
        expect(answer.body.error!.code).toBe('upstream_unreachable');
        expect(answer.headers.get('x-gateway-connection')).toBe(refused.name);
        expect(openAIFake.requests).toHaveLength(0);
        return;
      }
      throw new Error('the refused target never came first');
    });

    it('without failover, a 500 from an OpenAI-format target is answered as is', async () => {
      openAIFake.setDefault(fakeErrors.serverError());
      const answer = await chat('openai-then-claude');
      expect(answer.status).toBe(502);
      expect(openAIFake.requests).toHaveLength(1);
      expect(anthropicFake.requests).toHaveLength(0);
    });

    it('x-gateway-failover: on moves from an OpenAI-format target to its Anthropic fallback model, translated both ways (official openai client)', async () => {
      openAIFake.setDefault(fakeErrors.serverError());
      const client = new OpenAI({ apiKey: clientKey, baseURL: `${product.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-gateway-failover': 'on' } });
      const { data, response } = await client.chat.completions.create({ model: 'openai-then-claude', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      expect(data.object).toBe('chat.completion');
      expect(data.choices[0]!.message.content).toEqual(expect.any(String));
      expect(data.choices[0]!.message.content!.length).toBeGreaterThan(0);
      expect(response.headers.get('x-gateway-model')).toBe('claude-fallback');
      expect(response.headers.get('x-gateway-connection')).toBe(anthropicConnection.name);
      // Order: the OpenAI target first, then Anthropic's Messages API with the fallback's upstream model.
      expect(openAIFake.requests).toHaveLength(1);
      expect(openAIFake.requests[0]!.receivedAt).toBeLessThanOrEqual(anthropicFake.requests[0]!.receivedAt);
      expect(anthropicFake.requests).toHaveLength(1);
      expect(anthropicFake.requests[0]!.path).toBe('/v1/messages');
      expect(anthropicFake.requests[0]!.body).toMatchObject({ model: 'claude-haiku-4-5-20251001' });
    });

    it('x-gateway-failover naming models fails over to those instead of the model’s fallbacks, streams included', async () => {
      openAIFake.setDefault(fakeErrors.overloaded());
      const answer = await chat('openai-then-claude', { 'x-gateway-failover': 'claude-fallback' }, { stream: true });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-gateway-model')).toBe('claude-fallback');
      expect(answer.text).toContain('chat.completion.chunk');
      expect(answer.text).toContain('[DONE]');
      expect(anthropicFake.requests).toHaveLength(1);
    });

    it('an unknown model in x-gateway-failover is refused before any call, naming the header', async () => {
      const answer = await chat('openai-then-claude', { 'x-gateway-failover': 'no-such-model' });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'invalid_failover_header', param: 'x-gateway-failover' });
      expect(answer.body.error!.message).toContain('no-such-model');
      expect(openAIFake.requests).toHaveLength(0);
    });

    it('a non-retryable failure (the provider refuses the request) does not fail over', async () => {
      openAIFake.setDefault(fakeErrors.contextLengthExceeded());
      const answer = await chat('openai-then-claude', { 'x-gateway-failover': 'on' });
      expect(answer.status).toBe(400);
      expect(anthropicFake.requests).toHaveLength(0);
    });
  });

  describe('circuit breaker', () => {
    let breaking: Connection;
    let standby: Connection;

    beforeAll(async () => {
      // Open for 2 s: the five calls made while it is open must all fall inside that, even on a busy machine.
      breaking = await connection({ circuitFailureThreshold: 2, circuitHalfOpenAfterMs: 2000 });
      standby = await connection({});
      await model({
        name: 'breaker-model',
        targets: [
          { connectionId: breaking.id, upstreamModel: 'sick-upstream', weight: 1000 },
          { connectionId: standby.id, upstreamModel: 'standby-upstream', weight: 1 },
        ],
        failoverByDefault: true,
      });
      await model({ name: 'breaker-alone', targets: [{ connectionId: breaking.id, upstreamModel: 'lonely-upstream' }] });
    });

    it('opens after repeated failures (calls then skip the target), half-opens to probe, and closes on a good probe', async () => {
      openAIFake.setDefault(fakeErrors.serverError(), 'sick-upstream');
      // Until the sick target failed twice (each call fails over to the standby and succeeds).
      while (upstreamModels().filter((m) => m === 'sick-upstream').length < 2) expect((await chat('breaker-model')).status).toBe(200);
      const openedAt = Date.now();
      for (let i = 0; i < 5; i++) {
        const answer = await chat('breaker-model');
        expect(answer.status).toBe(200);
        expect(answer.headers.get('x-gateway-connection')).toBe(standby.name);
      }
      expect(Date.now() - openedAt).toBeLessThan(2000); // still within the open period
      expect(upstreamModels().filter((m) => m === 'sick-upstream')).toHaveLength(2);
      // The target recovers; after halfOpenAfter one probe goes to it and closes the circuit.
      openAIFake.setDefault(undefined, 'sick-upstream');
      await new Promise((r) => setTimeout(r, 2100 - (Date.now() - openedAt)));
      let probed = false;
      for (let i = 0; i < 5 && !probed; i++) probed = (await chat('breaker-model')).headers.get('x-gateway-connection') === breaking.name;
      expect(probed).toBe(true);
      expect(upstreamModels().filter((m) => m === 'sick-upstream')).toHaveLength(3);
      // Closed again: the heavy target takes the traffic.
      const after = await Promise.all(Array.from({ length: 5 }, () => chat('breaker-model')));
      expect(after.filter((a) => a.headers.get('x-gateway-connection') === breaking.name).length).toBeGreaterThanOrEqual(4);
    });

    it('with every target open and nothing to fail over to: 503 circuit_open with retry-after, no upstream call', async () => {
      openAIFake.setDefault(fakeErrors.serverError(), 'lonely-upstream');
      await chat('breaker-alone');
      await chat('breaker-alone');
      openAIFake.reset();
      const answer = await chat('breaker-alone');
      expect(answer.status).toBe(503);
      expect(answer.body.error!.code).toBe('circuit_open');
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(answer.headers.get('x-should-retry')).toBe('true');
      expect(openAIFake.requests).toHaveLength(0);
    });
  });

  it('balances a model across its targets by weight (3:1)', async () => {
    const a = await connection({});
    const b = await connection({});
    await model({
      name: 'balanced-model',
      targets: [
        { connectionId: a.id, upstreamModel: 'heavy-upstream', weight: 3 },
        { connectionId: b.id, upstreamModel: 'light-upstream', weight: 1 },
      ],
    });
    const calls = 400;
    for (let i = 0; i < calls; i += 20) await Promise.all(Array.from({ length: 20 }, () => chat('balanced-model')));
    const heavy = upstreamModels().filter((m) => m === 'heavy-upstream').length;
    expect(upstreamModels()).toHaveLength(calls);
    // Binomial(400, 0.75): mean 300, sd ~8.7; +-5 sd.
    expect(heavy).toBeGreaterThan(256);
    expect(heavy).toBeLessThan(344);
  }, 60_000);

  it('refuses a policy setting out of bounds, naming it', async () => {
    const res = await fetch(`${product.url}/admin/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `bad-policy-${Date.now()}`, adapter: 'openai-compatible', baseUrl: openAIFake.url, settings: { maxRetries: 50 } }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { field: string; messages: string[] }[] } };
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details).toEqual([{ field: 'settings.maxRetries', messages: ['must be an integer from 0 to 10'] }]);
  });

  it('an expiring key works until its expiresAt, then every replica refuses it 401 key_expired (/v1 calls and GET /v1/models)', async () => {
    const c = await connection({});
    await model({ name: 'expiry-model', targets: [{ connectionId: c.id, upstreamModel: 'expiry-upstream' }] });
    const expiresAt = new Date(Date.now() + 4000).toISOString();
    const created = await adminCall<{ key: string; expiresAt: string | null }>(product, 'POST', '/admin/gateway-keys', { name: 'expiring', expiresAt });
    expect(created.expiresAt).toBe(expiresAt);
    await waitForKey(created.key);
    const call = () =>
      fetch(`${product.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${created.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'expiry-model', messages: [{ role: 'user', content: 'hi' }] }),
      });
    expect((await call()).status).toBe(200);
    await new Promise((r) => setTimeout(r, Date.parse(expiresAt) - Date.now() + 100));
    const refused = await call();
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as ChatAnswer).error).toMatchObject({ code: 'key_expired', message: expect.stringContaining(expiresAt) });
    const models = await fetch(`${product.url}/v1/models`, { headers: { authorization: `Bearer ${created.key}` } });
    expect(models.status).toBe(401);
    expect(((await models.json()) as ChatAnswer).error!.code).toBe('key_expired');
    const bad = await fetch(`${product.url}/admin/gateway-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bad-expiry', expiresAt: 'tomorrow' }),
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('expiresAt');
  });

  it('a key limited to some models calls those (and lists only those); any other model is 403 model_not_allowed, failover included', async () => {
    const c = await connection({});
    await model({ name: 'allowed-model', targets: [{ connectionId: c.id, upstreamModel: 'allowed-upstream' }] });
    await model({ name: 'forbidden-model', targets: [{ connectionId: c.id, upstreamModel: 'forbidden-upstream' }] });
    const created = await adminCall<{ key: string; allowedModels: string[] | null }>(product, 'POST', '/admin/gateway-keys', { name: 'narrow', allowedModels: ['allowed-model'] });
    expect(created.allowedModels).toEqual(['allowed-model']);
    await waitForKey(created.key);
    const call = (modelName: string, headers: Record<string, string> = {}) =>
      fetch(`${product.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${created.key}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: modelName, messages: [{ role: 'user', content: 'hi' }] }),
      });
    expect((await call('allowed-model')).status).toBe(200);
    expect((await call('allowed-model:temperature=0.1')).status).toBe(200);
    const refused = await call('forbidden-model');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as ChatAnswer).error).toMatchObject({ code: 'model_not_allowed', param: 'model' });
    const viaHeader = await call('allowed-model', { 'x-gateway-failover': 'forbidden-model' });
    expect(viaHeader.status).toBe(400);
    expect(((await viaHeader.json()) as ChatAnswer).error!.code).toBe('invalid_failover_header');
    expect(upstreamModels()).toEqual(['allowed-upstream', 'allowed-upstream']);
    const listed = (await (await fetch(`${product.url}/v1/models`, { headers: { authorization: `Bearer ${created.key}` } })).json()) as { data: { id: string }[] };
    expect(listed.data.map((m) => m.id)).toEqual(['allowed-model']);
  });
});
