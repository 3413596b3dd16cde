import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import OpenAI from 'openai';
import pg from 'pg';
import { TELEMETRY_STREAM } from '#libs/contracts';
import { freePort } from '#libs/db';
import { fakeErrors, startFakeOpenAI, type FakeBehaviour, type FakeEcho, type FakeOpenAI, type RecordedRequest } from '../support/fake-upstream/index.js';
import { routeModel, waitForModelCosts, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { productModeFromEnv, startProduct, type Product } from '../support/e2e/product.js';

/** What the gateway writes in place of a secret. */
const REDACTED = '[redacted]';
const SECRET_HEADER = 'x-canary-secret';

/**
 * A connection's secrets (its API key, its extra header values) stay inside the gateway even when
 * the upstream echoes them back: not in an answer, a stream, a playground run, a stored row, a
 * span or a log line. The secrets are random canaries, new on every run; the fake upstream echoes
 * what the gateway sent it (plain, base64, hex), and each test first checks that it really did.
 */
describe('secret redaction', () => {
  // '/', '+' and '=' make the URL-encoded and JSON forms differ from the plain one.
  const apiKey = `sk-canary/${randomBytes(18).toString('base64url')}+${randomBytes(6).toString('hex')}=`;
  const headerSecret = `hv-canary-${randomBytes(12).toString('hex')}`;
  const echoBoth: FakeEcho = { headers: ['authorization', SECRET_HEADER] };

  let fake: FakeOpenAI;
  let product: Product;
  let route: RoutedModel;
  let client: OpenAI;
  let dataDir: string | undefined;
  let databaseUrl: string;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const env = { LOG_LEVEL: 'debug' }; // every line the services would write
    if (productModeFromEnv() === 'embedded') {
      // Our own data directory and Postgres port, so the test can read every stored row.
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'gw-e2e-redaction-'));
      const port = await freePort();
      product = await startProduct({ dataDir, env: { ...env, EMBEDDED_POSTGRES_PORT: String(port) } });
      const password = (await readFile(path.join(dataDir, 'postgres.password'), 'utf8')).trim();
      databaseUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/gateway`;
    } else {
      product = await startProduct({ env });
      databaseUrl = product.databaseUrl!;
    }
    route = await routeModel(product, { upstreamUrl: fake.url, upstreamKey: apiKey, headers: { [SECRET_HEADER]: headerSecret } });
    await waitUntilRoutable(product, route);
    client = new OpenAI({ apiKey: route.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  /** The forms of the canaries looked for, by name. */
  function canaryForms(): [string, string][] {
    const out: [string, string][] = [];
    for (const [name, secret] of [
      ['api key', apiKey],
      ['header value', headerSecret],
    ] as const) {
      const bytes = Buffer.from(secret, 'utf8');
      out.push(
        [`${name} as is`, secret],
        [`${name} lower case`, secret.toLowerCase()],
        [`${name} upper case`, secret.toUpperCase()],
        [`${name} base64`, bytes.toString('base64').replace(/=+$/, '')],
        [`${name} base64url`, bytes.toString('base64url')],
        [`${name} hex`, bytes.toString('hex')],
        [`${name} upper-case hex`, bytes.toString('hex').toUpperCase()],
        [`${name} URL-encoded`, encodeURIComponent(secret)],
      );
    }
    return out;
  }

  /** Which canary forms occur in `text` (the plain secrets in any letter case too). */
  function leaks(text: string): string[] {
    const found = canaryForms()
      .filter(([, form]) => text.includes(form))
      .map(([name]) => name);
    const lower = text.toLowerCase();
    if (lower.includes(apiKey.toLowerCase())) found.push('api key in some letter case');
    if (lower.includes(headerSecret.toLowerCase())) found.push('header value in some letter case');
    return [...new Set(found)];
  }

  function headersText(headers: Headers | undefined): string {
    return [...(headers?.entries() ?? [])].map(([k, v]) => `${k}: ${v}`).join('\n');
  }

  /** The gateway sent the upstream both secrets, and the upstream echoed them back, plain, base64 and hex. */
  function expectEchoed(request: RecordedRequest | undefined): void {
    expect(request?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(request?.headers[SECRET_HEADER]).toBe(headerSecret);
    const echoed = request?.echoed?.join('\n') ?? '';
    for (const secret of [apiKey, headerSecret]) {
      for (const form of [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) expect(echoed).toContain(form);
    }
    // The check below sees them: a leak would fail it.
    expect(leaks(echoed)).toEqual(expect.arrayContaining(['api key as is', 'api key hex', 'header value as is', 'header value hex']));
  }

  async function rawChat(behaviour: FakeBehaviour, stream: boolean): Promise<{ status: number; headers: Headers; body: string }> {
    fake.enqueue(behaviour);
    const res = await fetch(`${product.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${route.clientKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: route.modelName, messages: [{ role: 'user', content: 'hi' }], stream }),
    });
    return { status: res.status, headers: res.headers, body: await res.text() };
  }

  it('relays a 401 that echoes the key and a header value (plain, base64, hex) to the openai client without them', async () => {
    fake.enqueue(fakeErrors.echoingInvalidApiKey(echoBoth));
    const err = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expectEchoed(fake.requests.at(-1));
    // A provider refusing the connection's key is not the caller's bad key: 502, never 401 (issue 12).
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    const apiError = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.message).toContain('Incorrect API key provided.');
    expect(apiError.message).toContain(REDACTED);
    expect(leaks(`${apiError.message}\n${JSON.stringify(apiError.error)}\n${headersText(apiError.headers)}`)).toEqual([]);

    // The same on the wire, with the echo in a header the upstream sent (retry-after) too.
    const raw = await rawChat(fakeErrors.echoingInvalidApiKey({ ...echoBoth, inResponseHeaders: ['retry-after', 'openai-organization'] }), false);
    expectEchoed(fake.requests.at(-1));
    expect(raw.status).toBe(502);
    expect(JSON.parse(raw.body)).toEqual({
      error: { message: expect.stringMatching(/^Incorrect API key provided\. Received .*\[redacted\]/), type: 'api_error', param: null, code: 'upstream_auth_failed' },
    });
    // retry-after is never relayed as text: only a number the adapter read from it could be, and a 401 has none.
    expect(raw.headers.get('retry-after')).toBeNull();
    expect(leaks(`${headersText(raw.headers)}\n${raw.body}`)).toEqual([]);
  });

  it("relays neither an upstream error's param, code and type nor an error body that is not an OpenAI error object", async () => {
    const fields = await rawChat({ kind: 'error', status: 400, message: 'Bad request.', param: apiKey, code: headerSecret, type: `type-${apiKey}` }, false);
    expect(fields.status).toBe(400);
    expect(JSON.parse(fields.body)).toEqual({ error: { message: 'Bad request.', type: 'invalid_request_error', param: null, code: 'bad_request' } });

    const text = await rawChat({ kind: 'raw', status: 401, headers: { 'content-type': 'text/plain' }, body: 'Unauthorized:', echo: echoBoth }, false);
    expectEchoed(fake.requests.at(-1));
    expect(JSON.parse(text.body)).toEqual({ error: { message: 'upstream answered HTTP 401', type: 'api_error', param: null, code: 'upstream_auth_failed' } });

    const stringError = await rawChat({ kind: 'raw', status: 403, body: JSON.stringify({ error: `Forbidden for key ${apiKey}` }) }, false);
    expect(JSON.parse(stringError.body)).toEqual({ error: { message: 'upstream answered HTTP 403', type: 'api_error', param: null, code: 'upstream_auth_failed' } });

    for (const answer of [fields, text, stringError]) expect(leaks(`${headersText(answer.headers)}\n${answer.body}`)).toEqual([]);
  });

  it('ends a stream whose upstream error event echoes the secrets with an error event without them', async () => {
    const behaviour: FakeBehaviour = {
      kind: 'stream',
      deltas: ['Hello ', 'world'],
      // One event per write: events that share a chunk with the error are dropped today (reported separately).
      chunkDelayMs: 20,
      streamError: { afterChunks: 2, message: 'Incorrect API key provided.', code: 'invalid_api_key' },
      echo: { ...echoBoth, inResponseHeaders: ['openai-organization', 'x-request-id'] },
    };
    fake.enqueue(behaviour);
    const { data: stream, response } = await client.chat.completions
      .create({ model: route.modelName, messages: [{ role: 'user', content: 'hi' }], stream: true })
      .withResponse();
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expectEchoed(fake.requests.at(-1));
    expect(text).toBe('Hello ');
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const apiError = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.message).toContain(REDACTED);
    expect(response.headers.get('openai-organization')).toContain(REDACTED);
    expect(leaks(`${apiError.message}\n${JSON.stringify(apiError.error)}\n${headersText(response.headers)}`)).toEqual([]);

    const raw = await rawChat(behaviour, true);
    expectEchoed(fake.requests.at(-1));
    const events = raw.body.split('\n\n').filter((e) => e.startsWith('data: '));
    expect(JSON.parse(events.at(-1)!.slice('data: '.length))).toEqual({
      error: { message: expect.stringMatching(/^Incorrect API key provided\. Received .*\[redacted\]/), type: 'api_error', param: null, code: 'upstream_auth_failed' },
    });
    expect(raw.body).not.toContain('[DONE]');
    expect(leaks(`${headersText(raw.headers)}\n${raw.body}`)).toEqual([]);
  });

  it('passes the headers of a successful answer on without the secrets, and meters a model named after the key without it', async () => {
    const model = `echo-model-${apiKey}`;
    fake.enqueue({ kind: 'completion', model, usage: { promptTokens: 5, completionTokens: 2 }, echo: { ...echoBoth, inResponseHeaders: ['openai-organization', 'x-request-id'] } });
    const { data, response } = await client.chat.completions.create({ model: route.modelName, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expectEchoed(fake.requests.at(-1));
    expect(response.headers.get('openai-organization')).toContain(REDACTED);
    // The upstream's request id travels as x-upstream-request-id (x-request-id is the gateway's own).
    expect(response.headers.get('x-upstream-request-id')).toContain(REDACTED);
    expect(leaks(headersText(response.headers))).toEqual([]);
    // A successful answer's body is the model's output, passed through as the upstream sent it (the
    // hot path does not read it); what the gateway keeps of it, the span and so the usage record,
    // carries no secret.
    expect(data.model).toBe(model);
    const group = await waitForModelCosts(product, `echo-model-${REDACTED}`);
    expect(group.requests).toBe(1);
  });

  it('keeps and returns a playground run whose upstream echoed the secrets without them', async () => {
    fake.enqueue(fakeErrors.echoingInvalidApiKey(echoBoth));
    const res = await fetch(`${product.url}/admin/playground/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${product.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: route.modelName, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = await res.text();
    expectEchoed(fake.requests.at(-1));
    expect(res.status).toBe(201);
    const run = JSON.parse(body) as { status: string; error: string };
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^502: Incorrect API key provided\. Received .*\[redacted\]/);
    expect(leaks(`${headersText(res.headers)}\n${body}`)).toEqual([]);
  });

  it('leaves no secret in any stored row, stored span or log line', async () => {
    // Every table of every schema, as text.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    let rows = '';
    try {
      const tables = await db.query<{ schema: string; name: string }>(
        `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
      );
      expect(tables.rows.map((t) => t.name)).toEqual(expect.arrayContaining(['playground_runs', 'usage_records']));
      for (const t of tables.rows) {
        const dump = await db.query<{ row: string }>(`SELECT t::text AS row FROM ${pg.escapeIdentifier(t.schema)}.${pg.escapeIdentifier(t.name)} t`);
        rows += `${t.schema}.${t.name}\n${dump.rows.map((r) => r.row).join('\n')}\n`;
      }
    } finally {
      await db.end();
    }
    // The rows the upstream's words reached are there, redacted: the playground run's error, the usage record's model.
    expect(rows).toMatch(/502: Incorrect API key provided\. Received [^\n]*\[redacted\]/);
    expect(rows).toContain(`echo-model-${REDACTED}`);
    expect(leaks(rows)).toEqual([]);

    if (product.mode === 'distributed') {
      // Spans travel to metering on JetStream, which keeps them (limits retention): read them all.
      // Five calls' spans carry this upstream error: the 401 twice, the stream twice, the playground run.
      const spans = await storedStreamMessages(product.busNamespace!, (text) => text.split('"message":"Incorrect API key provided.').length - 1 >= 5);
      expect(spans).toMatch(/"status":\{"code":"error","message":"Incorrect API key provided\. Received [^"]*\[redacted\]/);
      expect(leaks(spans)).toEqual([]);
    }

    // The gateway logs what upstreams answered at debug level: those lines are there, redacted.
    const logs = product.output();
    expect(logs).toMatch(/upstream answered HTTP 401 \(auth\): Incorrect API key provided\. Received [^\n]*\[redacted\]/);
    expect(logs).toMatch(/upstream stream failed: Incorrect API key provided\. Received [^\n]*\[redacted\]/);
    expect(leaks(logs)).toEqual([]);
  });
});

/** Every message stored in the namespace's telemetry stream, once `ready` holds for them (metering is asynchronous). */
async function storedStreamMessages(namespace: string, ready: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const nc = await connect({ servers: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222' });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = `${namespace.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}_${TELEMETRY_STREAM.name}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { state } = await jsm.streams.info(stream);
      const texts: string[] = [];
      for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
        const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
        if (m) texts.push(`${m.subject}\n${m.string()}`);
      }
      const text = texts.join('\n');
      if (ready(text) || Date.now() > deadline) return text;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await nc.close();
  }
}
