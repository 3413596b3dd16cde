import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { fakeAnthropicErrors, startFakeAnthropic, type FakeAnthropic } from '../support/fake-upstream/index.js';
import { routeModel, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

type OpenAIError = InstanceType<typeof OpenAI.APIError>;
type AnthropicError = InstanceType<typeof Anthropic.APIError>;

/**
 * What the official clients see when the provider fails, in both client formats, with the clients'
 * default retry behaviour: the status table (apps/gateway/README.md) makes them retry what is worth
 * retrying (a rate limit, after the provider's retry-after; an overloaded provider) and nothing else
 * (a provider refusing the connection's credentials is never a bad gateway key). The upstream is
 * Anthropic: the Anthropic client's calls pass through, the openai client's are translated.
 */
describe('/v1 upstream errors in both client formats', () => {
  let fake: FakeAnthropic;
  let product: Product;
  let route: RoutedModel;
  /** Default maxRetries (2), as users run them. */
  let openai: OpenAI;
  let anthropic: Anthropic;
  let openaiOnce: OpenAI;
  let anthropicOnce: Anthropic;
  const chat = { model: '', messages: [{ role: 'user' as const, content: 'hi' }] };
  const message = { model: '', max_tokens: 20, messages: [{ role: 'user' as const, content: 'hi' }] };

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    product = await startProduct();
    route = await routeModel(product, { upstreamUrl: fake.url, adapter: 'anthropic', modelName: 'errors-claude', upstreamModel: 'claude-haiku-4-5-20251001' });
    await waitUntilRoutable(product, route);
    chat.model = message.model = route.modelName;
    openai = new OpenAI({ apiKey: route.clientKey, baseURL: `${product.url}/v1` });
    anthropic = new Anthropic({ apiKey: route.clientKey, baseURL: product.url });
    openaiOnce = new OpenAI({ apiKey: route.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    anthropicOnce = new Anthropic({ apiKey: route.clientKey, baseURL: product.url, maxRetries: 0 });
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  beforeEach(() => fake.reset());

  describe("the provider refuses the connection's credentials (401)", () => {
    it('openai client: 502 upstream_auth_failed, not invalid_api_key, and not retried', async () => {
      fake.setDefault(fakeAnthropicErrors.invalidApiKey());
      const err = (await openai.chat.completions.create(chat).catch((e: unknown) => e)) as OpenAIError;
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      expect(err).not.toBeInstanceOf(OpenAI.AuthenticationError);
      expect(err).toMatchObject({ status: 502, code: 'upstream_auth_failed', type: 'api_error' });
      expect(err.headers?.get('x-should-retry')).toBe('false');
      expect(fake.requests).toHaveLength(1);
    });

    it('anthropic client: 502 api_error, not authentication_error, and not retried', async () => {
      fake.setDefault(fakeAnthropicErrors.invalidApiKey());
      const err = (await anthropic.messages.create(message).catch((e: unknown) => e)) as AnthropicError;
      expect(err).toBeInstanceOf(Anthropic.InternalServerError);
      expect(err).not.toBeInstanceOf(Anthropic.AuthenticationError);
      expect(err.status).toBe(502);
      expect(err.error).toMatchObject({ type: 'error', error: { type: 'api_error', message: 'invalid x-api-key' } });
      expect(fake.requests).toHaveLength(1);
    });
  });

  describe('the provider rate-limits (429 with retry-after)', () => {
    it('openai client: 429 with retry-after and retry-after-ms passed on; the default client waits and retries to success', async () => {
      fake.enqueue(fakeAnthropicErrors.rateLimited(1));
      const err = (await openaiOnce.chat.completions.create(chat).catch((e: unknown) => e)) as OpenAIError;
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err).toMatchObject({ code: 'rate_limited', type: 'rate_limit_error' });
      expect(err.headers?.get('retry-after')).toBe('1');
      expect(err.headers?.get('retry-after-ms')).toBe('1000');
      fake.reset();
      fake.enqueue(fakeAnthropicErrors.rateLimited(1));
      const started = Date.now();
      const ok = await openai.chat.completions.create(chat);
      expect(ok.choices[0]?.message.content).toBeTruthy();
      expect(fake.requests).toHaveLength(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    });

    it('anthropic client: 429 rate_limit_error with retry-after; the default client waits and retries to success', async () => {
      fake.enqueue(fakeAnthropicErrors.rateLimited(1));
      const err = (await anthropicOnce.messages.create(message).catch((e: unknown) => e)) as AnthropicError;
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
      expect(err.error).toMatchObject({ error: { type: 'rate_limit_error' } });
      expect(err.headers?.get('retry-after')).toBe('1');
      fake.reset();
      fake.enqueue(fakeAnthropicErrors.rateLimited(1));
      const ok = await anthropic.messages.create(message);
      expect(ok.content[0]).toMatchObject({ type: 'text' });
      expect(fake.requests).toHaveLength(2);
    });
  });

  describe('the provider is overloaded (529)', () => {
    it('openai client: 503 overloaded, retryable', async () => {
      fake.enqueue(fakeAnthropicErrors.overloaded());
      const err = (await openaiOnce.chat.completions.create(chat).catch((e: unknown) => e)) as OpenAIError;
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      expect(err).toMatchObject({ status: 503, code: 'overloaded' });
      expect(err.headers?.get('x-should-retry')).toBe('true');
    });

    it('anthropic client: 529 overloaded_error, as Anthropic itself answers', async () => {
      fake.enqueue(fakeAnthropicErrors.overloaded());
      const err = (await anthropicOnce.messages.create(message).catch((e: unknown) => e)) as AnthropicError;
      expect(err.status).toBe(529);
      expect(err.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    });
  });

  describe('the provider fails in the middle of a stream', () => {
    const midStream = { kind: 'stream' as const, content: 'one two three four five', streamError: { afterEvents: 4, type: 'overloaded_error', message: 'Overloaded' } };

    it('openai client: the text so far, then an error chunk in OpenAI’s format (no [DONE])', async () => {
      fake.enqueue(midStream);
      const stream = await openaiOnce.chat.completions.create({ ...chat, stream: true });
      let text = '';
      const err = await (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as OpenAIError).message).toContain('Overloaded');
      expect(text.length).toBeGreaterThan(0);
      expect('one two three four five'.startsWith(text)).toBe(true);
      expect(text).not.toBe('one two three four five');
    });

    it('anthropic client: the events so far, then Anthropic’s error event (no message_stop)', async () => {
      fake.enqueue(midStream);
      const res = await fetch(`${product.url}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${route.clientKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...message, stream: true }),
      });
      const text = await res.text();
      expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error","message":"Overloaded"/);
      expect(text).not.toContain('message_stop');
      fake.enqueue(midStream);
      const err = await anthropicOnce.messages
        .stream(message)
        .finalMessage()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect(String((err as Error).message)).toContain('Overloaded');
    });
  });
});
