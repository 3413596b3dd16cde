import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import OpenAI from 'openai';
import { request } from 'undici';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { routeModel, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

/**
 * Issue 11, item 4: every hostile input is answered with a 4xx (or, for a slow client, a closed
 * connection) before any upstream is paid, the gateway's memory stays bounded, and it serves
 * normally afterwards. Small timeouts and concurrency bounds are configured so this runs in seconds.
 */
const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const PER_ADDRESS = 6;
const PER_CONNECTION = 2;

describe('hostile input', () => {
  let fake: FakeOpenAI;
  let product: Product;
  let route: RoutedModel;
  let client: OpenAI;
  let peakBefore: number;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    product = await startProduct({
      env: {
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        MAX_CONCURRENT_REQUESTS_PER_ADDRESS: String(PER_ADDRESS),
        MAX_CONCURRENT_REQUESTS_PER_CONNECTION: String(PER_CONNECTION),
      },
    });
    route = await routeModel(product, { upstreamUrl: fake.url });
    await waitUntilRoutable(product, route);
    client = new OpenAI({ apiKey: route.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    // Warm up (first call compiles and connects), then take the memory baseline.
    await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'warm up' }] });
    peakBefore = memoryOf(product).peak;
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  beforeEach(() => fake.reset());

  /** POSTs raw bytes (no client-side checks) and reads the JSON answer. */
  async function post(path: string, body: string | Buffer, key = route.clientKey): Promise<{ status: number; headers: Record<string, unknown>; body: { error: Record<string, unknown> } }> {
    const res = await request(`${product.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
    return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as { error: Record<string, unknown> } };
  }

  const chatWith = (extra: string): string => `{"model":"${route.modelName}","messages":[{"role":"user","content":"hi"}]${extra}}`;
  const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

  it('refuses JSON nested 10,000 deep on /v1 with 400 naming the depth limit, before any upstream call', async () => {
    const answer = await post('/v1/chat/completions', chatWith(`,"metadata":${nested(10_000)}`));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toEqual({ message: 'The JSON body is nested deeper than 128 levels.', type: 'invalid_request_error', param: 'body', code: 'json_limit_exceeded' });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses JSON nested 10,000 deep on the Fastify /v1 routes and on /admin, each in its own error format', async () => {
    const v1 = await post('/v1/embeddings', `{"model":"m","input":${nested(10_000)}}`);
    expect(v1.status).toBe(400);
    expect(v1.body.error).toMatchObject({ type: 'invalid_request_error', code: 'json_limit_exceeded', message: expect.stringContaining('nested deeper than 128 levels') });
    const admin = await post('/admin/connections', `{"name":"x","adapter":"openai-compatible","baseUrl":"http://127.0.0.1:1","apiKey":"k","headers":${nested(10_000)}}`, product.adminKey);
    expect(admin.status).toBe(400);
    expect(admin.body.error).toEqual({ code: 'validation_failed', message: 'The JSON body is nested deeper than 128 levels.' });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses 1,000,000 messages (a 31 MB body under the size limit) with 400 naming the array limit', async () => {
    const messages = Array(1_000_000).fill('{"role":"user","content":"hi"}').join(',');
    const answer = await post('/v1/chat/completions', `{"model":"${route.modelName}","messages":[${messages}]}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'json_limit_exceeded', param: 'body', message: 'A JSON array in the body has more than 500000 items.' });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses an object with 1,000,000 keys with 400 naming the key limit', async () => {
    const keys = Array.from({ length: 1_000_000 }, (_, i) => `"k${i}":"v"`).join(',');
    const answer = await post('/v1/chat/completions', chatWith(`,"metadata":{${keys}}`));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'json_limit_exceeded', param: 'body', message: 'A JSON object in the body has more than 10000 keys.' });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a 50 MB body with 413, whether its length is announced or not, and forwards nothing', async () => {
    const big = Buffer.alloc(50 * 1024 * 1024, 0x20);
    big.write(chatWith('').slice(0, -1) + ',"pad":"', 0);
    big.write('"}', big.length - 2);
    // Refused from its Content-Length before a byte of it is read; the client sees the 413 before it
    // sends (a client that sends on regardless meets a closed connection).
    const announced = await rawExchange(product.url, postHead('/v1/chat/completions', route.clientKey, { 'content-length': String(big.length) }), [big], { pauseAfterHeadMs: 300 });
    expect(announced).toMatch(/^HTTP\/1\.1 413 /);
    expect(announced).toContain('"code":"request_too_large"');
    // Unannounced, it is read up to the limit, answered 413 and the connection closed. A client still
    // sending when the gateway closes may be reset before it reads the 413 (TCP discards what it had
    // not read), so the gateway stopping the upload early is what is checked then.
    let sent = 0;
    const chunked = await rawExchange(product.url, postHead('/v1/chat/completions', route.clientKey, { 'transfer-encoding': 'chunked' }), chunkedParts(big), { onSent: (n) => (sent = n) });
    if (chunked === '') expect(sent).toBeLessThan(40 * 1024 * 1024);
    else expect(chunked).toMatch(/^HTTP\/1\.1 413 [\s\S]*"code":"request_too_large"/);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a 2 MB body on /admin with 413 in the admin error format', async () => {
    const body = Buffer.from(`{"name":"${'x'.repeat(2 * 1024 * 1024)}"}`);
    // Raw, pausing after the head: the gateway answers from Content-Length and closes, and a client
    // still sending then may be reset before it reads the answer.
    const answer = await rawExchange(product.url, postHead('/admin/connections', product.adminKey, { 'content-length': String(body.length) }), [body], { pauseAfterHeadMs: 300 });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'payload_too_large', message: expect.any(String) } });
  });

  it.each([
    ['temperature 1e309', ',"temperature":1e309', 'temperature', /finite number/],
    ['negative max_tokens', ',"max_tokens":-5', 'max_tokens', /below the minimum/],
    ['a non-integer max_completion_tokens', ',"max_completion_tokens":2.5', 'max_completion_tokens', /integer/],
    ['n of 0', ',"n":0', 'n', /below the minimum/],
  ])('refuses %s with 400 in OpenAI format naming the field, before any upstream call', async (_name, extra, param, message) => {
    const answer = await post('/v1/chat/completions', chatWith(extra));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', param, message: expect.stringMatching(message) });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses an unknown role and content as a number, naming the message field (as the openai client sees it)', async () => {
    const role = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'wizard', content: 'hi' } as never] }).catch((e: unknown) => e);
    expect(role).toBeInstanceOf(OpenAI.BadRequestError);
    expect(role).toMatchObject({ status: 400, param: 'messages[0].role', message: expect.stringContaining('"wizard" is not one of the supported values') });
    const content = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'system', content: 'ok' }, { role: 'user', content: 42 as never }] }).catch((e: unknown) => e);
    expect(content).toMatchObject({ status: 400, param: 'messages[1].content', message: expect.stringContaining('expected one of string, array, but got a number') });
    expect(fake.requests).toHaveLength(0);
  });

  it('closes a connection whose headers trickle in slower than the headers timeout', async () => {
    const { hostname, port } = new URL(product.url);
    const started = Date.now();
    const { text, closedAfterMs } = await new Promise<{ text: string; closedAfterMs: number }>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: ${hostname}\r\n`));
      // One header line every 100 ms: each byte arrives in time, the whole headers never do.
      const trickle = setInterval(() => socket.writable && socket.write(`X-Slow-${Date.now()}: 1\r\n`), 100);
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
      socket.on('close', () => {
        clearInterval(trickle);
        resolve({ text, closedAfterMs: Date.now() - started });
      });
      socket.on('error', () => undefined);
      setTimeout(() => reject(new Error('the gateway kept a slow client for 10 s')), 10_000);
    });
    expect(closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
    expect(closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 2000);
    if (text) expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(fake.requests).toHaveLength(0);
  });

  it('closes a connection whose body stalls past the request timeout, forwarding nothing', async () => {
    const started = Date.now();
    const answer = await rawExchange(product.url, postHead('/v1/chat/completions', route.clientKey, { 'content-length': '1000' }), [Buffer.from('{"model":"')], { keepOpen: true });
    const closedAfterMs = Date.now() - started;
    expect(closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 2000);
    if (answer) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(fake.requests).toHaveLength(0);
  });

  it('does not cut a streamed answer that lasts longer than the request timeout', async () => {
    fake.enqueue({ kind: 'completion', deltas: ['one ', 'two ', 'three ', 'four ', 'five ', 'six'], chunkDelayMs: 600 });
    const started = Date.now();
    const stream = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'count slowly' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(Date.now() - started).toBeGreaterThan(REQUEST_TIMEOUT_MS + 500);
    expect(text).toBe('one two three four five six');
  });

  it('answers 429 with retry-after, in the caller format, to requests beyond the per-address bound', async () => {
    fake.setDefault({ kind: 'delay', ms: 1500, then: { kind: 'completion' } });
    const inFlight = Array.from({ length: PER_ADDRESS }, () => client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'slow' }] }));
    await fake.waitForRequests(PER_ADDRESS);
    const v1 = await post('/v1/chat/completions', chatWith(''));
    expect(v1.status).toBe(429);
    expect(v1.headers['retry-after']).toBe('1');
    expect(v1.body.error).toMatchObject({ type: 'rate_limit_error', code: 'too_many_concurrent_requests' });
    const admin = await request(`${product.url}/admin/connections`, { headers: { authorization: `Bearer ${product.adminKey}` } });
    expect(admin.statusCode).toBe(429);
    expect(((await admin.body.json()) as { error: unknown }).error).toMatchObject({ code: 'rate_limited' });
    const answers = await Promise.all(inFlight);
    expect(answers.every((a) => a.choices.length === 1)).toBe(true);
    expect(fake.requests).toHaveLength(PER_ADDRESS);
    // The bound frees as answers leave.
    fake.setDefault(undefined);
    expect((await post('/v1/chat/completions', chatWith(''))).status).toBe(200);
  });

  it('answers 429 to a pipelined request beyond the per-connection bound, after the ones in flight', async () => {
    fake.setDefault({ kind: 'delay', ms: 500, then: { kind: 'completion' } });
    const body = chatWith('');
    const one = postHead('/v1/chat/completions', route.clientKey, { 'content-length': String(Buffer.byteLength(body)) }) + body;
    const answer = await rawExchange(product.url, one.repeat(PER_CONNECTION + 1), [], { responses: PER_CONNECTION + 1 });
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([...Array(PER_CONNECTION).fill(200), 429]);
    expect(fake.requests).toHaveLength(PER_CONNECTION);
    fake.setDefault(undefined);
  });

  it('kept its memory bounded through all of the above, and serves a normal call afterwards', async () => {
    const { peak, rss } = memoryOf(product);
    // Each refused body was held at most once as bytes (32 MiB at most), never as a million objects.
    expect(peak - peakBefore).toBeLessThan(150 * 1024 * 1024);
    expect(rss).toBeLessThan(peakBefore + 150 * 1024 * 1024);
    const ready = await request(`${product.url}/health/ready`);
    expect(ready.statusCode).toBe(200);
    await ready.body.dump();
    const ok = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'still there?' }], temperature: 0.5, max_tokens: 20 });
    expect(ok.choices[0]?.message.content).toEqual(expect.any(String));
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.body).toMatchObject({ temperature: 0.5, max_tokens: 20 });
  });
});

/** Resident and peak resident memory of the gateway process, in bytes (Linux /proc). */
function memoryOf(product: Product): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${product.gatewayProcess.pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

function postHead(path: string, key: string, headers: Record<string, string>): string {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `POST ${path} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\n${extra}\r\n`;
}

function* chunkedParts(body: Buffer): Generator<Buffer> {
  const size = 1024 * 1024;
  for (let at = 0; at < body.length; at += size) {
    const part = body.subarray(at, at + size);
    yield Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]);
  }
  yield Buffer.from('0\r\n\r\n');
}

/**
 * Writes `head` and then `parts` on a raw connection (stopping when the gateway closes it or
 * stops reading), and returns everything the gateway answered until it closed the connection,
 * or until `responses` answers arrived.
 */
async function rawExchange(url: string, head: string, parts: Iterable<Buffer>, options: { keepOpen?: boolean; responses?: number; pauseAfterHeadMs?: number; onSent?: (bytes: number) => void } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise<string>((resolve, reject) => {
    let text = '';
    let done = false;
    const finish = (socket: Socket): void => {
      if (done) return;
      done = true;
      options.onSent?.(socket.bytesWritten);
      socket.destroy();
      resolve(text);
    };
    const socket = connect(Number(port), hostname, async () => {
      socket.write(head);
      if (options.pauseAfterHeadMs) await new Promise((r) => setTimeout(r, options.pauseAfterHeadMs));
      for (const part of parts) {
        if (socket.destroyed || done) return;
        if (!socket.write(part)) {
          const drained = await new Promise<boolean>((r) => {
            const onDrain = (): void => {
              socket.off('close', onClose);
              r(true);
            };
            const onClose = (): void => {
              socket.off('drain', onDrain);
              r(false);
            };
            socket.once('drain', onDrain);
            socket.once('close', onClose);
          });
          if (!drained) return;
        }
      }
      if (!options.keepOpen && options.responses === undefined) socket.end();
    });
    socket.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      if (options.responses !== undefined && [...text.matchAll(/HTTP\/1\.1 \d{3} /g)].length >= options.responses && /\}\s*$/.test(text)) finish(socket);
    });
    socket.on('close', () => finish(socket));
    socket.on('error', () => undefined);
    setTimeout(() => (done ? undefined : reject(new Error(`no end of the exchange after 20 s; got: ${text.slice(0, 2000)}`))), 20_000);
  });
}
