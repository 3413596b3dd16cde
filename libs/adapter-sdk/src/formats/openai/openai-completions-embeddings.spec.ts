import OpenAI from 'openai';
import { openAISchemaErrors } from '../../../../../test/support/fake-upstream/openai-schemas.js';
import type { CanonicalStreamPart } from '../../canonical.js';
import { formatSseEvent } from '../sse-format.js';
import { completionRequestFromOpenAI, OpenAICompletionChunkEncoder, openAICompletionFromCanonical } from './openai-completions.js';
import { embeddingRequestFromOpenAI, embeddingResponseFromOpenAI, floatsFromBase64, openAIEmbeddingListFromCanonical } from './openai-embeddings.js';

describe('OpenAI completions codec', () => {
  it('reads a completions body, keeping echo and logprobs for an OpenAI upstream', () => {
    expect(completionRequestFromOpenAI({ model: 'gw', prompt: 'Say', max_tokens: 7, stop: '\n', echo: true, logprobs: 2, stream: true })).toEqual({
      value: { model: 'gw', prompt: 'Say', maxOutputTokens: 7, stopSequences: ['\n'], stream: true, includeUsage: false, providerOptions: { openai: { echo: true, logprobs: 2 } } },
      warnings: [],
    });
    expect(completionRequestFromOpenAI({ model: 'gw', prompt: [1, 2, 3] })).toMatchObject({ invalid: { param: 'prompt' } });
  });

  it("writes a whole answer OpenAI's schema accepts", () => {
    const body = openAICompletionFromCanonical(
      { id: 'cmpl-1', choices: [{ index: 0, text: ' upon a time', finishReason: 'length' }], usage: { input: { total: 2, noCache: 2, cacheRead: 0, cacheWrite: 0 }, output: { total: 4, text: 4, reasoning: 0 }, extra: {} } },
      { fallbackId: 'x', now: 1_765_000_000, model: 'gw' },
    );
    expect(openAISchemaErrors('CreateCompletionResponse', body)).toEqual([]);
    expect(body).toMatchObject({ model: 'gw', choices: [{ text: ' upon a time', finish_reason: 'length' }], usage: { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 } });
  });

  it('writes chunks the openai client reads back into the text and usage', async () => {
    const parts: CanonicalStreamPart[] = [
      { type: 'response-metadata', id: 'cmpl-9', model: 'base-7b' },
      { type: 'text-delta', choice: 0, text: ' upon' },
      { type: 'text-delta', choice: 0, text: ' a time' },
      { type: 'finish', choice: 0, reason: 'stop', rawReason: 'stop' },
      { type: 'usage', usage: { input: { total: 2, noCache: 2, cacheRead: 0, cacheWrite: 0 }, output: { total: 3, text: 3, reasoning: 0 }, extra: {} } },
    ];
    const encoder = new OpenAICompletionChunkEncoder({ fallbackId: 'x', now: 1, model: 'gw', includeUsage: true });
    const events = [...parts.flatMap((p) => encoder.push(p)), ...encoder.end()];
    // The final chunk and the usage chunk are whole completion objects; the others carry finish_reason null as OpenAI's own stream does.
    expect(openAISchemaErrors('CreateCompletionResponse', events.at(-3)?.data)).toEqual([]);
    const text = events.map(formatSseEvent).join('');
    const client = new OpenAI({ apiKey: 'k', maxRetries: 0, fetch: async () => new Response(text, { headers: { 'content-type': 'text/event-stream' } }) });
    let out = '';
    let usage: unknown;
    for await (const chunk of await client.completions.create({ model: 'gw', prompt: 'Once', stream: true, stream_options: { include_usage: true } })) {
      out += chunk.choices[0]?.text ?? '';
      usage ??= chunk.usage ?? undefined;
    }
    expect(out).toBe(' upon a time');
    expect(usage).toEqual({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
  });
});

describe('OpenAI embeddings codec', () => {
  it('reads a single string input as a list of one', () => {
    expect(embeddingRequestFromOpenAI({ model: 'gw-embed', input: 'hello', encoding_format: 'base64' })).toEqual({
      value: { model: 'gw-embed', input: ['hello'], providerOptions: { openai: { encoding_format: 'base64' } } },
      warnings: [],
    });
  });

  it("writes floats OpenAI's schema accepts, and base64 the openai client decodes to the same floats", async () => {
    const res = { embeddings: [[0.125, -1.5, 3]], usage: { input: { total: 3, noCache: 3, cacheRead: 0, cacheWrite: 0 }, output: { total: 0, text: 0, reasoning: 0 }, extra: {} } };
    const floats = openAIEmbeddingListFromCanonical(res, { model: 'gw-embed', encoding: 'float' });
    expect(openAISchemaErrors('CreateEmbeddingResponse', floats)).toEqual([]);
    const base64 = openAIEmbeddingListFromCanonical(res, { model: 'gw-embed', encoding: 'base64' });
    expect(floatsFromBase64(base64.data[0].embedding as string)).toEqual([0.125, -1.5, 3]);
    // The openai client asks for base64 by default and decodes it itself.
    const client = new OpenAI({ apiKey: 'k', maxRetries: 0, fetch: async () => new Response(JSON.stringify(base64), { headers: { 'content-type': 'application/json' } }) });
    const got = await client.embeddings.create({ model: 'gw-embed', input: 'x' });
    expect(got.data[0].embedding).toEqual([0.125, -1.5, 3]);
    expect(got.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
  });

  it('reads only model and usage for metering, leaving the vectors undecoded', () => {
    const body = Buffer.from(JSON.stringify({ object: 'list', model: 'emb-1', data: [{ object: 'embedding', index: 0, embedding: 'AAAAPgAAwL8AAEBA' }], usage: { prompt_tokens: 4, total_tokens: 4 } }));
    const metering = embeddingResponseFromOpenAI(body, { meteringOnly: true });
    expect(metering).toEqual({ value: { model: 'emb-1', embeddings: [], usage: expect.objectContaining({ input: expect.objectContaining({ total: 4 }) }) } });
    expect(embeddingResponseFromOpenAI(body)).toMatchObject({ value: { embeddings: [[0.125, -1.5, 3]] } });
  });

  it('reads model and usage of float vectors for metering without parsing the floats, whatever the layout', () => {
    const usage = expect.objectContaining({ input: expect.objectContaining({ total: 7 }) });
    const compact = Buffer.from(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, -2e-3, 3] }, { object: 'embedding', embedding: [], index: 1 }], model: 'emb-ü', usage: { prompt_tokens: 7, total_tokens: 7 } }));
    expect(embeddingResponseFromOpenAI(compact, { meteringOnly: true })).toEqual({ value: { model: 'emb-ü', embeddings: [], usage } });
    const spaced = Buffer.from(JSON.stringify({ model: 'emb-2', usage: { prompt_tokens: 7 }, data: [{ embedding: [1, 2], object: 'embedding' }] }, null, 2));
    expect(embeddingResponseFromOpenAI(spaced, { meteringOnly: true })).toEqual({ value: { model: 'emb-2', embeddings: [], usage } });
    // "embedding": inside a string value is not a key; a vector that is not numbers falls back to the whole parse
    const tricky = Buffer.from(JSON.stringify({ model: 'x "embedding":[1]', data: [{ embedding: [[1], ']'] }], usage: { prompt_tokens: 7 } }));
    expect(embeddingResponseFromOpenAI(tricky, { meteringOnly: true })).toEqual({ value: { model: 'x "embedding":[1]', embeddings: [], usage } });
    expect(embeddingResponseFromOpenAI(Buffer.from('{"data":[{"embedding":[1,2'), { meteringOnly: true })).toHaveProperty('error');
  });

  it('reads model and usage of base64 vectors for metering without parsing the strings, and falls back to the whole parse for a string with escapes', () => {
    const usage = expect.objectContaining({ input: expect.objectContaining({ total: 7 }) });
    const two = Buffer.from(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: 'AAAAPgAAwL8AAEBA' }, { index: 1, embedding: 'AACAPw==' }], model: 'emb-ü', usage: { prompt_tokens: 7, total_tokens: 7 } }));
    expect(embeddingResponseFromOpenAI(two, { meteringOnly: true })).toEqual({ value: { model: 'emb-ü', embeddings: [], usage } });
    // Not base64: the string holds an escaped quote, so its end is not the first quote after it.
    const escaped = Buffer.from(JSON.stringify({ data: [{ embedding: 'a"}],"model":"wrong' }], model: 'emb-3', usage: { prompt_tokens: 7 } }));
    expect(embeddingResponseFromOpenAI(escaped, { meteringOnly: true })).toEqual({ value: { model: 'emb-3', embeddings: [], usage } });
    expect(embeddingResponseFromOpenAI(Buffer.from('{"data":[{"embedding":"AAAA'), { meteringOnly: true })).toHaveProperty('error');
  });
});
