import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import OpenAI, { AzureOpenAI } from 'openai';
import { azureFakeErrors } from './azure-wire.js';
import { startFakeAzureOpenAI, type FakeAzureOpenAI } from './fake-openai.js';

type ApiError = InstanceType<typeof OpenAI.APIError>;

/**
 * The fake's Azure shapes are trusted only once the official `openai` package's AzureOpenAI client
 * accepts them: its URL forms, its api-key and Entra ID auth, Azure's filter results in answers and
 * streams, and its error bodies.
 */
describe('fake Azure OpenAI upstream, checked with the AzureOpenAI client', () => {
  const KEY = 'azure-resource-key-0123456789';
  let fake: FakeAzureOpenAI;
  let client: AzureOpenAI;

  beforeAll(async () => {
    fake = await startFakeAzureOpenAI({ apiKey: KEY });
    client = new AzureOpenAI({ endpoint: fake.url, apiKey: KEY, apiVersion: '2024-10-21', maxRetries: 0 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    fake.expectBearerToken(undefined);
  });

  it("answers a chat completion on the deployment's path, with Azure's filter results", async () => {
    fake.enqueue({ kind: 'completion', content: 'Hello from Azure', model: 'gpt-4o-2024-11-20', usage: { promptTokens: 11, completionTokens: 4 } });
    const completion = await client.chat.completions.create({ model: 'prod-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]!.message.content).toBe('Hello from Azure');
    expect(completion.model).toBe('gpt-4o-2024-11-20');
    expect(completion.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 4 });
    expect((completion as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results).toHaveLength(1);
    const sent = fake.requests[0]!;
    expect({ path: sent.path, query: sent.query }).toEqual({ path: '/openai/deployments/prod-4o/chat/completions', query: 'api-version=2024-10-21' });
    expect(sent.headers['api-key']).toBe(KEY);
  });

  it('streams with the prompt-filter chunk first, which the client takes in its stride', async () => {
    fake.enqueue({ kind: 'completion', deltas: ['Hel', 'lo'], usage: { promptTokens: 9, completionTokens: 2 } });
    const stream = await client.chat.completions.create({ model: 'prod-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of stream) {
      chunks.push(c);
      text += c.choices[0]?.delta?.content ?? '';
    }
    expect(text).toBe('Hello');
    expect(chunks[0]).toMatchObject({ id: '', model: '', choices: [] });
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 2 });
  });

  it('answers tool calls and embeddings (base64, as the client asks) on their deployments', async () => {
    fake.enqueue({ kind: 'completion', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] });
    const tools = await client.chat.completions.create({
      model: 'prod-4o',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    });
    expect(tools.choices[0]!.message.tool_calls).toEqual([{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    const embedding = await client.embeddings.create({ model: 'emb-small', input: ['a', 'b'] });
    expect(embedding.data).toHaveLength(2);
    expect(embedding.data[0]!.embedding.length).toBeGreaterThan(0);
    expect(fake.requests[1]!.path).toBe('/openai/deployments/emb-small/embeddings');
  });

  it("answers Azure's 429 with retry-after and retry-after-ms, and its content-filter refusal", async () => {
    fake.enqueue(azureFakeErrors.rateLimited(6), azureFakeErrors.contentFilter('violence', 'high'));
    const limited = await client.chat.completions.create({ model: 'prod-4o', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as ApiError).headers?.get('retry-after-ms')).toBe('6000');
    expect((limited as ApiError).code).toBe('429');
    const filtered = await client.chat.completions.create({ model: 'prod-4o', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(filtered).toBeInstanceOf(OpenAI.BadRequestError);
    expect((filtered as ApiError).code).toBe('content_filter');
    expect((filtered as ApiError).error).toMatchObject({ innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { violence: { filtered: true, severity: 'high' } } } });
  });

  it('refuses a wrong key, and accepts an Entra ID token instead of the key', async () => {
    const wrong = new AzureOpenAI({ endpoint: fake.url, apiKey: 'nope', apiVersion: '2024-10-21', maxRetries: 0 });
    const refused = await wrong.chat.completions.create({ model: 'prod-4o', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((refused as ApiError).code).toBe('401');
    fake.expectBearerToken('entra-token-1');
    const entra = new AzureOpenAI({ endpoint: fake.url, azureADTokenProvider: async () => 'entra-token-1', apiVersion: '2024-10-21', maxRetries: 0 });
    await expect(entra.chat.completions.create({ model: 'prod-4o', messages: [{ role: 'user', content: 'x' }] })).resolves.toMatchObject({ object: 'chat.completion' });
    expect(fake.requests.at(-1)!.headers.authorization).toBe('Bearer entra-token-1');
  });

  it("serves Azure's v1 form (the deployment in the body) and refuses an unknown api-version", async () => {
    const v1 = new OpenAI({ baseURL: `${fake.url}/openai/v1`, apiKey: 'unused', defaultHeaders: { 'api-key': KEY }, maxRetries: 0 });
    fake.script('prod-4o', { kind: 'completion', content: 'v1 answer' });
    const answer = await v1.chat.completions.create({ model: 'prod-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]!.message.content).toBe('v1 answer');
    expect(fake.requests[0]!.path).toBe('/openai/v1/chat/completions');
    const old = new AzureOpenAI({ endpoint: fake.url, apiKey: KEY, apiVersion: '1999-01-01', maxRetries: 0 });
    const refused = await old.chat.completions.create({ model: 'prod-4o', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
  });
});
