import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FinishReason, FunctionCallingConfigMode, GoogleGenAI } from '@google/genai';
import { OAuth2Client } from 'google-auth-library';
import { getGlobalDispatcher } from 'undici';
import { fetchTokenWithGoogleAuth, type ServiceAccountKey } from '#libs/adapters';
import { guardedFetch, SystemHostResolver, UpstreamAddressPolicy } from '#libs/upstream-guard';
import { fakeGeminiErrors } from './gemini-behaviour.js';
import { fakeGeminiVector, startFakeGemini, type FakeGemini } from './fake-gemini.js';

/**
 * The fake's shapes are trusted only because Google's own client, @google/genai, accepts them
 * (issue 13): generateContent, generateContentStream and embedContent, through the AI Studio URL
 * form with an API key and the Vertex form with a token from the fake's OAuth endpoint.
 */

const KEY = 'AIzaSyFake-0123456789abcdefghijklmnopqrs';
const MODEL = 'gemini-2.5-flash';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

// @google/genai dispatches through Node's global undici dispatcher, which it finds by this symbol on
// globalThis; Jest's VM sandbox has its own globalThis, where Node never put it.
const DISPATCHER = Symbol.for('undici.globalDispatcher.1');
(globalThis as Record<symbol, unknown>)[DISPATCHER] ??= getGlobalDispatcher();

async function rejection(p: Promise<unknown>): Promise<Error & { status?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { status?: number };
  }
  throw new Error('expected a rejection, got an answer');
}

describe('fake Gemini upstream, read by the official @google/genai client', () => {
  let fake: FakeGemini;

  beforeAll(async () => {
    fake = await startFakeGemini({ apiKey: KEY, serviceAccountPublicKey: publicKey });
  });
  afterAll(async () => fake?.close());
  beforeEach(() => fake.reset());

  describe('AI Studio (API key)', () => {
    let ai: GoogleGenAI;
    beforeAll(() => {
      ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: fake.url } });
    });

    it('generateContent: text, usage with cached and thought tokens, at /v1beta/models/{model}:generateContent', async () => {
      fake.enqueue({ kind: 'content', text: 'Bonjour.', thoughts: 'French, then.', usage: { promptTokens: 120, cachedTokens: 100, candidatesTokens: 3, thoughtsTokens: 9 } });
      const res = await ai.models.generateContent({ model: MODEL, contents: 'Say hello in French', config: { systemInstruction: 'Be terse.', temperature: 0.2 } });
      expect(res.text).toBe('Bonjour.');
      expect(res.candidates?.[0]?.finishReason).toBe(FinishReason.STOP);
      expect(res.usageMetadata).toMatchObject({ promptTokenCount: 120, cachedContentTokenCount: 100, candidatesTokenCount: 3, thoughtsTokenCount: 9, totalTokenCount: 132 });
      expect(res.modelVersion).toBe(MODEL);
      const sent = fake.requests[0]!;
      expect(sent.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
      expect(sent.headers['x-goog-api-key']).toBe(KEY);
      expect(sent.body).toMatchObject({ systemInstruction: { parts: [{ text: 'Be terse.' }] }, generationConfig: { temperature: 0.2 } });
    });

    it('generateContent: function calls, read by the SDK as functionCalls', async () => {
      fake.enqueue({ kind: 'content', functionCalls: [{ name: 'get_weather', args: { city: 'Paris' } }] });
      const res = await ai.models.generateContent({
        model: MODEL,
        contents: 'weather?',
        config: {
          tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'object' as never, properties: { city: { type: 'string' as never } } } }] }],
          toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY } },
        },
      });
      expect(res.functionCalls).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }]);
    });

    it('generateContentStream: SSE with alt=sse, one chunk per word, the last with finishReason and usage', async () => {
      fake.enqueue({ kind: 'content', deltas: ['Hel', 'lo, ', 'wörld 🌍'], usage: { promptTokens: 5, candidatesTokens: 4 } });
      const stream = await ai.models.generateContentStream({ model: MODEL, contents: 'hi' });
      const texts: string[] = [];
      let last;
      for await (const chunk of stream) {
        texts.push(chunk.text ?? '');
        last = chunk;
      }
      expect(texts).toEqual(['Hel', 'lo, ', 'wörld 🌍']);
      expect(last?.candidates?.[0]?.finishReason).toBe(FinishReason.STOP);
      expect(last?.usageMetadata).toMatchObject({ promptTokenCount: 5, candidatesTokenCount: 4 });
      expect(fake.requests[0]).toMatchObject({ path: `/v1beta/models/${MODEL}:streamGenerateContent`, query: 'alt=sse' });
    });

    it('generateContentStream: an error event mid-stream reaches the SDK as an error after the first chunks', async () => {
      fake.enqueue({ kind: 'content', deltas: ['one ', 'two ', 'three'], streamError: { afterChunks: 1, code: 500, message: 'An internal error has occurred.' } });
      const stream = await ai.models.generateContentStream({ model: MODEL, contents: 'hi' });
      const texts: string[] = [];
      const err = await rejection(
        (async () => {
          for await (const chunk of stream) texts.push(chunk.text ?? '');
        })(),
      );
      expect(texts).toEqual(['one ']);
      expect(err.message).toContain('An internal error has occurred.');
    });

    it('embedContent: batchEmbedContents, one vector per input in order', async () => {
      const res = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['a', 'bbb'], config: { outputDimensionality: 3 } });
      expect(res.embeddings?.map((e) => e.values)).toEqual([fakeGeminiVector('a', 3), fakeGeminiVector('bbb', 3)]);
      expect(fake.requests[0]?.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    });

    it('answers 429 RESOURCE_EXHAUSTED with RetryInfo, a bad key with 400 API_KEY_INVALID, both read by the SDK', async () => {
      fake.enqueue(fakeGeminiErrors.rateLimited('17s'));
      const limited = await rejection(ai.models.generateContent({ model: MODEL, contents: 'hi' }));
      expect(limited.status).toBe(429);
      expect(limited.message).toContain('RESOURCE_EXHAUSTED');
      expect(limited.message).toContain('"retryDelay":"17s"');
      const bad = new GoogleGenAI({ apiKey: 'AIza-wrong', httpOptions: { baseUrl: fake.url } });
      const refused = await rejection(bad.models.generateContent({ model: MODEL, contents: 'hi' }));
      expect(refused.status).toBe(400);
      expect(refused.message).toContain('API_KEY_INVALID');
    });
  });

  describe('Vertex AI (service account, OAuth token)', () => {
    // The gateway's own guarded fetch, with the fake's loopback address let through as tests do.
    const guarded = guardedFetch({ policy: UpstreamAddressPolicy.fromAllowList('127.0.0.0/8'), resolver: new SystemHostResolver(), connectTimeoutMs: 5_000, timeoutMs: 10_000 });
    afterAll(() => guarded.close());
    const serviceAccount = (): ServiceAccountKey => ({
      client_email: 'gateway@fake-project.iam.gserviceaccount.com',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      private_key_id: 'kid-1',
      token_uri: fake.tokenUri,
    });

    async function vertexClient(): Promise<GoogleGenAI> {
      // google-auth-library's JWT grant, sent to the fake's token_uri and verified there with the public key.
      const { token, expiresAt } = await fetchTokenWithGoogleAuth(serviceAccount(), guarded.fetch);
      const authClient = new OAuth2Client();
      authClient.setCredentials({ access_token: token, expiry_date: expiresAt });
      return new GoogleGenAI({ vertexai: true, project: 'fake-project', location: 'europe-west4', googleAuthOptions: { authClient }, httpOptions: { baseUrl: fake.url, apiVersion: 'v1' } });
    }

    it('issues a token for a signed JWT grant and serves generateContent at the publishers/google path with it', async () => {
      const before = fake.tokenFetches;
      const ai = await vertexClient();
      expect(fake.tokenFetches).toBe(before + 1);
      fake.enqueue({ kind: 'content', text: 'Hallo.' });
      const res = await ai.models.generateContent({ model: MODEL, contents: 'hello in German' });
      expect(res.text).toBe('Hallo.');
      const call = fake.requests.find((r) => r.path.endsWith(':generateContent'))!;
      expect(call.path).toBe(`/v1/projects/fake-project/locations/europe-west4/publishers/google/models/${MODEL}:generateContent`);
      expect(call.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
    });

    it('streams and embeds (predict) through the Vertex form', async () => {
      const ai = await vertexClient();
      fake.enqueue({ kind: 'content', deltas: ['a', 'b'] });
      const texts: string[] = [];
      for await (const chunk of await ai.models.generateContentStream({ model: MODEL, contents: 'hi' })) texts.push(chunk.text ?? '');
      expect(texts).toEqual(['a', 'b']);
      const res = await ai.models.embedContent({ model: 'text-embedding-005', contents: ['one two', 'three'] });
      expect(res.embeddings?.map((e) => e.values)).toEqual([fakeGeminiVector('one two'), fakeGeminiVector('three')]);
      expect(res.embeddings?.map((e) => e.statistics?.tokenCount)).toEqual([2, 1]);
      expect(fake.requests.at(-1)?.path).toBe('/v1/projects/fake-project/locations/europe-west4/publishers/google/models/text-embedding-005:predict');
    });

    it('refuses a call without a valid token with 401 UNAUTHENTICATED, and a grant signed by another key', async () => {
      const res = await fetch(`${fake.url}/v1/projects/p/locations/us-central1/publishers/google/models/${MODEL}:generateContent`, {
        method: 'POST',
        headers: { authorization: 'Bearer ya29.forged', 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      // google-auth-library's error for the refused grant, in the taxonomy: auth.
      await expect(fetchTokenWithGoogleAuth({ ...serviceAccount(), private_key: other }, guarded.fetch)).rejects.toMatchObject({ error: { kind: 'auth', message: expect.stringContaining('invalid_grant') } });
    });
  });
});
