import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import OpenAI from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.js';
import { fakeErrors } from './fake-behaviour.js';
import { embeddingVector } from './openai-wire.js';
import { openAISchemaErrors, type OpenAISchemaName } from './openai-schemas.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function expectSchema(name: OpenAISchemaName, value: unknown): void {
  expect({ name, errors: openAISchemaErrors(name, value) }).toEqual({ name, errors: [] });
}

async function post(fake: FakeOpenAI, route: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fake.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** The `data:` payloads of an SSE body, in order. */
function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice('data: '.length));
}

type Chunk = { object: string; model: string; choices: { delta: Record<string, unknown>; finish_reason: string | null }[]; usage?: Record<string, unknown> | null };

const chat = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('fake OpenAI upstream', () => {
  let fake: FakeOpenAI;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    client = new OpenAI({ apiKey: 'sk-test', baseURL: fake.url, maxRetries: 0 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    fake.expectApiKey(undefined);
  });

  it('answers a chat completion in OpenAI schema, echoing the request model, with the content and usage asked for', async () => {
    fake.enqueue({ kind: 'completion', content: 'Bonjour tout le monde', usage: { promptTokens: 7, completionTokens: 5, cachedTokens: 2, reasoningTokens: 1 } });
    const res = await post(fake, '/chat/completions', chat({ model: 'my-model' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Record<string, unknown>;
    expectSchema('CreateChatCompletionResponse', body);
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'my-model',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Bonjour tout le monde', refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12, prompt_tokens_details: { cached_tokens: 2 }, completion_tokens_details: { reasoning_tokens: 1 } },
      system_fingerprint: expect.any(String),
    });
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.created).toEqual(expect.any(Number));
  });

  it('lets the answer name another model than the request', async () => {
    fake.enqueue({ kind: 'completion', model: 'gpt-4o-mini-2024-07-18' });
    const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.model).toBe('gpt-4o-mini-2024-07-18');
  });

  it('streams a role chunk, N content chunks, a finish chunk, the usage chunk when asked, then [DONE]', async () => {
    const behaviour = { kind: 'stream', content: 'abcdefghij', chunks: 4, usage: { promptTokens: 3, completionTokens: 4 } } as const;
    fake.enqueue(behaviour, behaviour);
    const withUsage = await post(fake, '/chat/completions', chat({ stream: true, stream_options: { include_usage: true } }));
    expect(withUsage.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const data = sseData(await withUsage.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    for (const c of chunks) expectSchema('CreateChatCompletionStreamResponse', c);
    expect(chunks).toHaveLength(1 + 4 + 1 + 1);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(chunks.slice(1, 5).map((c) => c.choices[0]!.delta.content).join('')).toBe('abcdefghij');
    expect(chunks.slice(0, 5).every((c) => c.choices[0]!.finish_reason === null && c.usage === null)).toBe(true);
    expect(chunks[5]!.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks[6]).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } });

    const withoutUsage = sseData(await (await post(fake, '/chat/completions', chat({ stream: true }))).text());
    const plain = withoutUsage.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(plain).toHaveLength(1 + 4 + 1);
    expect(plain.every((c) => !('usage' in c) && c.choices.length === 1)).toBe(true);
  });

  it('answers a `completion` behaviour as a stream when the request streams, and the openai client reads it', async () => {
    fake.enqueue({ kind: 'completion', content: 'one two three', usage: { promptTokens: 9, completionTokens: 3 } });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('one two three');
    expect(usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 });
  });

  it('spaces stream events by the per-chunk delay', async () => {
    fake.enqueue({ kind: 'stream', chunks: 3, chunkDelayMs: 40 });
    const started = Date.now();
    const data = sseData(await (await post(fake, '/chat/completions', chat({ stream: true }))).text());
    // role + 3 content + finish + [DONE] = 6 events, 5 gaps of 40 ms.
    expect(data).toHaveLength(6);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5 * 40 - 10);
  });

  it('breaks the connection after K events, without [DONE]', async () => {
    fake.enqueue({ kind: 'stream', chunks: 10, breakAfterChunks: 3 });
    const res = await post(fake, '/chat/completions', chat({ stream: true }));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let failure: unknown;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeDefined();
    const data = sseData(text);
    expect(data).toHaveLength(3);
    expect(data).not.toContain('[DONE]');

    fake.enqueue({ kind: 'stream', chunks: 10, breakAfterChunks: 2, chunkDelayMs: 5 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true });
    await expect(
      (async () => {
        for await (const _chunk of stream) void _chunk;
      })(),
    ).rejects.toThrow();
  });

  it('answers errors with the status, the OpenAI error object and retry-after', async () => {
    fake.enqueue({ kind: 'error', status: 429, retryAfter: 7, retryAfterMs: 7000 });
    const res = await post(fake, '/chat/completions', chat());
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.headers.get('retry-after-ms')).toBe('7000');
    const body = await res.json();
    expectSchema('ErrorResponse', body);
    expect(body).toEqual({ error: { message: expect.stringContaining('Rate limit reached for gpt-4o-mini'), type: 'requests', param: null, code: 'rate_limit_exceeded' } });

    fake.enqueue(fakeErrors.contextLengthExceeded());
    const err = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages', type: 'invalid_request_error' });
  });

  it('echoes the request credentials plain, base64 and hex: in a 401, in an in-stream error event, in response headers and a raw body', async () => {
    const key = 'sk-echo-test-0123456789';
    const forms = [key, Buffer.from(key).toString('base64'), Buffer.from(key).toString('hex')];
    const headers = { authorization: `Bearer ${key}`, 'x-tenant-secret': 'tenant-secret-value' };

    fake.enqueue(fakeErrors.echoingInvalidApiKey({ headers: ['authorization', 'x-tenant-secret'], inResponseHeaders: ['openai-organization'] }));
    const res = await post(fake, '/chat/completions', chat(), headers);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expectSchema('ErrorResponse', body);
    expect(body.error.code).toBe('invalid_api_key');
    for (const form of [...forms, 'tenant-secret-value', Buffer.from('tenant-secret-value').toString('hex')]) {
      expect(body.error.message).toContain(form);
      expect(res.headers.get('openai-organization')).toContain(form);
    }
    expect(fake.requests.at(-1)!.echoed).toEqual([...forms, 'tenant-secret-value', Buffer.from('tenant-secret-value').toString('base64'), Buffer.from('tenant-secret-value').toString('hex')]);

    fake.enqueue({ kind: 'stream', deltas: ['a', 'b', 'c'], streamError: { afterChunks: 2, message: 'Invalid credentials.', code: 'invalid_api_key' }, echo: { forms: ['base64'] } });
    const stream = await post(fake, '/chat/completions', chat({ stream: true }), headers);
    const data = sseData(await stream.text());
    expect(data).toHaveLength(3); // the role chunk, one content chunk, the error; no [DONE]
    expect(JSON.parse(data[2]!)).toEqual({ error: { message: `Invalid credentials. Received authorization (base64): ${forms[1]}.`, type: 'server_error', param: null, code: 'invalid_api_key' } });

    fake.enqueue({ kind: 'completion', echo: { forms: ['hex'], inResponseHeaders: ['x-request-id'] } });
    const ok = await post(fake, '/chat/completions', chat(), headers);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe(`Received authorization (hex): ${forms[2]}.`);

    fake.enqueue({ kind: 'raw', status: 401, headers: { 'content-type': 'text/plain' }, body: 'bad key:', echo: { forms: ['plain'] } });
    const raw = await post(fake, '/chat/completions', chat(), headers);
    expect(await raw.text()).toBe(`bad key: Received authorization (plain): ${key}.`);
  });

  it('waits before answering with a delay behaviour', async () => {
    fake.enqueue({ kind: 'delay', ms: 150, then: fakeErrors.serverError() });
    const started = Date.now();
    const res = await post(fake, '/chat/completions', chat());
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(res.status).toBe(500);
    expectSchema('ErrorResponse', await res.json());
  });

  it('takes a model script before the global queue, then the model default, then the global default', async () => {
    fake.enqueue({ kind: 'completion', content: 'from the queue' });
    fake.script('model-b', { kind: 'completion', content: 'scripted for b' });
    fake.setDefault({ kind: 'completion', content: 'b by default' }, 'model-b');
    fake.setDefault({ kind: 'completion', content: 'everyone by default' });
    expect(fake.pending()).toBe(2);
    const ask = async (model: string): Promise<string | null> => (await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })).choices[0]!.message.content;
    expect(await ask('model-b')).toBe('scripted for b');
    expect(await ask('model-a')).toBe('from the queue');
    expect(await ask('model-b')).toBe('b by default');
    expect(await ask('model-a')).toBe('everyone by default');
    expect(fake.pending()).toBe(0);
    fake.reset();
    expect(await ask('model-b')).toBe('Hello from the fake OpenAI upstream.');
  });

  it('refuses a missing or wrong bearer key in OpenAI format, and records the headers that arrived', async () => {
    fake.expectApiKey('sk-right-key-1234');
    fake.enqueue({ kind: 'completion', content: 'queued' });
    const missing = await post(fake, '/chat/completions', chat());
    expect(missing.status).toBe(401);
    const missingBody = await missing.json();
    expectSchema('ErrorResponse', missingBody);
    expect(missingBody).toMatchObject({ error: { type: 'invalid_request_error', code: null } });

    const wrong = await post(fake, '/chat/completions', chat(), { authorization: 'Bearer sk-wrong-key-9999' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'invalid_api_key', message: expect.stringContaining('sk-***9999') } });
    // A refused request does not use up the queued answer.
    expect(fake.pending()).toBe(1);

    const ok = await post(fake, '/chat/completions', chat(), { authorization: 'Bearer sk-right-key-1234', 'x-trace-tenant': 'acme' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ choices: [{ message: { content: 'queued' } }] });
    expect(fake.requests).toHaveLength(3);
    expect(fake.requests[2]).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer sk-right-key-1234', 'x-trace-tenant': 'acme' },
      body: chat(),
    });
  });

  it('answers legacy completions, JSON and streamed, in OpenAI schema', async () => {
    fake.enqueue({ kind: 'completion', content: 'once upon a time' });
    const json = await (await post(fake, '/completions', { model: 'gpt-3.5-turbo-instruct', prompt: 'Say' })).json();
    expectSchema('CreateCompletionResponse', json);
    expect(json).toMatchObject({ object: 'text_completion', model: 'gpt-3.5-turbo-instruct', choices: [{ text: 'once upon a time', finish_reason: 'stop', logprobs: null }] });

    const data = sseData(await (await post(fake, '/completions', { model: 'gpt-3.5-turbo-instruct', prompt: 'Say', stream: true, stream_options: { include_usage: true } })).text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as { choices: { text: string; finish_reason: string | null }[]; usage?: unknown });
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe('Hello from the fake OpenAI upstream.');
    // OpenAI streams finish_reason: null until the last text chunk, which its schema does not allow;
    // the finishing chunk is schema-valid.
    const finishing = chunks.at(-2)!;
    expect(finishing.choices[0]!.finish_reason).toBe('stop');
    expectSchema('CreateCompletionResponse', finishing);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } });
  });

  it('answers embeddings as floats or base64 as asked, with the dimensions asked for', async () => {
    const floats = await (await post(fake, '/embeddings', { model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float', dimensions: 5 })).json();
    expectSchema('CreateEmbeddingResponse', floats);
    expect(floats).toMatchObject({ object: 'list', model: 'text-embedding-3-small', data: [{ index: 0, object: 'embedding' }, { index: 1 }] });
    expect((floats as { data: { embedding: number[] }[] }).data[1]!.embedding).toEqual(embeddingVector(1, 5));

    const base64 = (await (await post(fake, '/embeddings', { model: 'text-embedding-3-small', input: 'a', encoding_format: 'base64' })).json()) as { data: { embedding: unknown }[] };
    expect(typeof base64.data[0]!.embedding).toBe('string');
    const decoded = Array.from(new Float32Array(new Uint8Array(Buffer.from(base64.data[0]!.embedding as string, 'base64')).buffer));
    expect(decoded).toEqual(embeddingVector(0, 8));

    // The official client asks for base64 unless told otherwise and decodes it.
    const viaClient = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(fake.requests.at(-1)!.body).toMatchObject({ encoding_format: 'base64' });
    expect(viaClient.data[0]!.embedding).toEqual(embeddingVector(0, 8));
  });

  it('lists models in OpenAI schema', async () => {
    const list = await (await fetch(`${fake.url}/models`)).json();
    expectSchema('ListModelsResponse', list);
    expect((list as { data: { id: string }[] }).data.map((m) => m.id)).toContain('gpt-4o-mini');
    const one = await fetch(`${fake.url}/models/gpt-4o-mini`);
    expectSchema('Model', await one.json());
    const missing = await fetch(`${fake.url}/models/nope`);
    expect(missing.status).toBe(404);
    expectSchema('ErrorResponse', await missing.json());
  });

  it('answers an unknown route, a body that is not JSON, and a missing model as OpenAI does', async () => {
    const unknown = await post(fake, '/nope', {});
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { message: 'Invalid URL (POST /v1/nope)', type: 'invalid_request_error', param: null, code: null } });
    const notJson = await fetch(`${fake.url}/chat/completions`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    expectSchema('ErrorResponse', await notJson.json());
    expect(fake.requests.at(-1)!.body).toBe('{oops');
    const noModel = await post(fake, '/chat/completions', { messages: [] });
    expect(noModel.status).toBe(400);
    expect(await noModel.json()).toMatchObject({ error: { message: 'you must provide a model parameter' } });
  });

  it('answers tool calls, JSON and streamed, in OpenAI schema', async () => {
    const behaviour = { kind: 'completion', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] } as const;
    fake.enqueue(behaviour, behaviour);
    const json = await (await post(fake, '/chat/completions', chat())).json();
    expectSchema('CreateChatCompletionResponse', json);
    expect(json).toMatchObject({ choices: [{ finish_reason: 'tool_calls', message: { content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] } }] });

    const data = sseData(await (await post(fake, '/chat/completions', chat({ stream: true }))).text());
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    for (const c of chunks) expectSchema('CreateChatCompletionStreamResponse', c);
    const args = chunks
      .flatMap((c) => (c.choices[0]?.delta.tool_calls as { function?: { arguments?: string } }[] | undefined) ?? [])
      .map((t) => t.function?.arguments ?? '')
      .join('');
    expect(args).toBe('{"city":"Paris"}');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('drops the connection with a disconnect behaviour and sends a raw body untouched', async () => {
    fake.enqueue({ kind: 'disconnect' }, { kind: 'raw', status: 200, headers: { 'content-type': 'text/event-stream' }, body: 'data: {not json}\n\n' });
    await expect(post(fake, '/chat/completions', chat())).rejects.toThrow();
    const raw = await post(fake, '/chat/completions', chat({ stream: true }));
    expect(raw.headers.get('content-type')).toBe('text/event-stream');
    expect(await raw.text()).toBe('data: {not json}\n\n');
  });

  it('records nothing while recording is off', async () => {
    fake.recording = false;
    try {
      await post(fake, '/chat/completions', chat());
      expect(fake.requests).toHaveLength(0);
    } finally {
      fake.recording = true;
    }
  });

  it('serialises a canned answer once, not per request', async () => {
    const behaviour = { kind: 'completion', content: 'cached' } as const;
    fake.setDefault(behaviour);
    const body = JSON.stringify(chat({ stream: true, stream_options: { include_usage: true } }));
    const ask = async (): Promise<string> => (await fetch(`${fake.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text();
    const first = await ask();
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      const again = await ask();
      expect(again).toBe(first);
      expect(stringify).not.toHaveBeenCalled();
    } finally {
      stringify.mockRestore();
    }
  });

  it('has schema checks that fail on what strict clients reject', () => {
    // Many OpenAI-compatible servers omit these; the spec requires them, so must our checks.
    const noLogprobs = { id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi', refusal: null } }] };
    expect(openAISchemaErrors('CreateChatCompletionResponse', noLogprobs)).not.toEqual([]);
    expect(openAISchemaErrors('ErrorResponse', { error: { message: 'm', type: 't' } })).not.toEqual([]);
    expect(openAISchemaErrors('CreateChatCompletionStreamResponse', { id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [] })).not.toEqual([]);
  });
});

describe('fake OpenAI upstream as its own process', () => {
  const main = path.join(ROOT, 'dist/test/support/fake-upstream/main.js');

  it('prints its URL, streams the chunk count it was started with, and stops on SIGTERM', async () => {
    expect(existsSync(main)).toBe(true); // npm run build first
    const child = spawn(process.execPath, [main, '--port', '0', '--stream-chunks', '20'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const line = out.split('\n')[0];
          if (out.includes('\n') && line) resolve(line);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code} before printing its URL`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const res = await fetch(`${url}/chat/completions`, { method: 'POST', body: JSON.stringify(chat({ stream: true })) });
      const data = sseData(await res.text());
      expect(data).toHaveLength(1 + 20 + 1 + 1);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
