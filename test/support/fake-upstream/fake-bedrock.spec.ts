import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { signAwsRequest } from '../../../libs/adapters/src/bedrock/bedrock-signer.js';
import { DEFAULT_BEDROCK_TEXT } from './bedrock-wire.js';
import { startFakeBedrock, TEST_AWS_CREDENTIALS, type FakeBedrock } from './fake-bedrock.js';

/**
 * The fake Bedrock is trusted only because the AWS SDK's own client accepts it: its Converse JSON,
 * its binary event-stream (ConverseStream), its exception frames, its InvokeModel answers and its
 * error types, and its SigV4 check accepts what the SDK signs and refuses a wrong secret as AWS does.
 */

const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
let fake: FakeBedrock;

function client(credentials: { accessKeyId: string; secretAccessKey: string } = TEST_AWS_CREDENTIALS): BedrockRuntimeClient {
  return new BedrockRuntimeClient({ region: 'us-east-1', endpoint: fake.url, credentials, maxAttempts: 1, requestHandler: new NodeHttpHandler() });
}

beforeAll(async () => {
  fake = await startFakeBedrock();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('fake Bedrock, read by @aws-sdk/client-bedrock-runtime', () => {
  it('answers Converse with text, a stop reason and usage with cache fields, to a request the SDK signed', async () => {
    fake.enqueue({ kind: 'answer', text: 'Bonjour', usage: { inputTokens: 11, outputTokens: 3, cacheReadInputTokens: 5, cacheWriteInputTokens: 2 } });
    const out = await client().send(new ConverseCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'hi' }] }], system: [{ text: 'be brief' }] }));
    expect(out.output?.message?.content).toEqual([{ text: 'Bonjour' }]);
    expect(out.stopReason).toBe('end_turn');
    expect(out.usage).toEqual({ inputTokens: 11, outputTokens: 3, totalTokens: 21, cacheReadInputTokens: 5, cacheWriteInputTokens: 2 });
    expect(fake.refusedSignatures).toBe(0);
    // The model id's colon reaches the fake percent-encoded, as the SDK sends it.
    expect(fake.requests[0]!.path).toBe('/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse');
    expect(String(fake.requests[0]!.headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
  });

  it('answers Converse with a tool use', async () => {
    fake.enqueue({ kind: 'answer', toolUses: [{ toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } }] });
    const out = await client().send(new ConverseCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'weather?' }] }] }));
    expect(out.output?.message?.content).toEqual([{ toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } }]);
    expect(out.stopReason).toBe('tool_use');
  });

  it('streams ConverseStream as binary event-stream events the SDK decodes, text and tool input', async () => {
    fake.enqueue({ kind: 'answer', text: 'Hi there', toolUses: [{ toolUseId: 't1', name: 'lookup', input: { q: 'x' } }], usage: { inputTokens: 7, outputTokens: 9 } });
    const out = await client().send(new ConverseStreamCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    const events: ConverseStreamOutput[] = [];
    for await (const e of out.stream!) events.push(e);
    const kinds = events.map((e) => Object.keys(e).find((k) => (e as unknown as Record<string, unknown>)[k] !== undefined));
    expect(kinds[0]).toBe('messageStart');
    expect(kinds.slice(-2)).toEqual(['messageStop', 'metadata']);
    const text = events.map((e) => e.contentBlockDelta?.delta?.text ?? '').join('');
    expect(text).toBe('Hi there');
    expect(events.find((e) => e.contentBlockStart)?.contentBlockStart?.start?.toolUse).toEqual({ toolUseId: 't1', name: 'lookup' });
    expect(events.map((e) => e.contentBlockDelta?.delta?.toolUse?.input ?? '').join('')).toBe('{"q":"x"}');
    expect(events.find((e) => e.messageStop)?.messageStop?.stopReason).toBe('tool_use');
    expect(events.find((e) => e.metadata)?.metadata?.usage).toEqual({ inputTokens: 7, outputTokens: 9, totalTokens: 16 });
  });

  it('ends a stream with an exception frame the SDK throws as ModelStreamErrorException', async () => {
    fake.enqueue({ kind: 'stream-exception', afterEvents: 3, exception: 'modelStreamErrorException', message: 'The model broke mid-answer' });
    const out = await client().send(new ConverseStreamCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    let text = '';
    const read = async (): Promise<void> => {
      for await (const e of out.stream!) text += e.contentBlockDelta?.delta?.text ?? '';
    };
    await expect(read()).rejects.toMatchObject({ name: 'ModelStreamErrorException', message: 'The model broke mid-answer' });
    expect(text).toBe(DEFAULT_BEDROCK_TEXT.split(' ').slice(0, 2).join(' ') + ' ');
  });

  it('answers 429 ThrottlingException as the SDK expects it', async () => {
    fake.enqueue({ kind: 'error', status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' });
    await expect(client().send(new ConverseCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }))).rejects.toMatchObject({
      name: 'ThrottlingException',
      message: 'Too many requests, please wait before trying again.',
      $metadata: { httpStatusCode: 429 },
    });
  });

  it('embeds with Titan and Cohere through InvokeModel', async () => {
    const titan = await client().send(new InvokeModelCommand({ modelId: 'amazon.titan-embed-text-v2:0', contentType: 'application/json', body: JSON.stringify({ inputText: 'hello', dimensions: 256 }) }));
    const t = JSON.parse(new TextDecoder().decode(titan.body)) as { embedding: number[]; inputTextTokenCount: number };
    expect(t.embedding).toHaveLength(256);
    expect(t.inputTextTokenCount).toBe(2);
    const cohere = await client().send(new InvokeModelCommand({ modelId: 'cohere.embed-english-v3', contentType: 'application/json', body: JSON.stringify({ texts: ['a', 'b'], input_type: 'search_document' }) }));
    expect((JSON.parse(new TextDecoder().decode(cohere.body)) as { embeddings: number[][] }).embeddings).toHaveLength(2);
  });
});

describe('fake Bedrock: SigV4 verified server-side', () => {
  it('refuses a request signed with a wrong secret with 403 InvalidSignatureException', async () => {
    const wrong = client({ accessKeyId: TEST_AWS_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' });
    await expect(wrong.send(new ConverseCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 403 },
    });
    expect(fake.refusedSignatures).toBe(1);
  });

  it('refuses an unknown access key id with 403 UnrecognizedClientException', async () => {
    const unknown = client({ accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: TEST_AWS_CREDENTIALS.secretAccessKey });
    await expect(unknown.send(new ConverseCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      $metadata: { httpStatusCode: 403 },
    });
  });

  it("accepts the adapter's signed request, and refuses it once its body changed", async () => {
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
    const signed = await signAwsRequest(
      { url: `${fake.url}/model/${encodeURIComponent(MODEL)}/converse`, method: 'POST', headers: { 'content-type': 'application/json' }, body },
      TEST_AWS_CREDENTIALS,
      'us-east-1',
    );
    const ok = await fetch(signed.url, { method: 'POST', headers: signed.headers, body: signed.body });
    expect(ok.status).toBe(200);
    const tampered = await fetch(signed.url, { method: 'POST', headers: signed.headers, body: body.replace('hi', 'ho') });
    expect(tampered.status).toBe(403);
    expect(tampered.headers.get('x-amzn-errortype')).toMatch(/^InvalidSignatureException:/);
    const unsigned = await fetch(signed.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toMatch(/^MissingAuthenticationTokenException:/);
  });

  it('requires the session token of temporary credentials', async () => {
    const temp = await startFakeBedrock({ credentials: { accessKeyId: 'ASIAIOSFODNN7EXAMPLE', secretAccessKey: 'tmp-secret', sessionToken: 'FwoGZXIvYXdzEXAMPLE' } });
    try {
      const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
      const request = { url: `${temp.url}/model/m/converse`, method: 'POST' as const, headers: { 'content-type': 'application/json' }, body };
      const withToken = await signAwsRequest(request, { accessKeyId: 'ASIAIOSFODNN7EXAMPLE', secretAccessKey: 'tmp-secret', sessionToken: 'FwoGZXIvYXdzEXAMPLE' }, 'us-east-1');
      expect(withToken.headers['x-amz-security-token']).toBe('FwoGZXIvYXdzEXAMPLE');
      expect((await fetch(withToken.url, { method: 'POST', headers: withToken.headers, body })).status).toBe(200);
      const without = await signAwsRequest(request, { accessKeyId: 'ASIAIOSFODNN7EXAMPLE', secretAccessKey: 'tmp-secret' }, 'us-east-1');
      expect((await fetch(without.url, { method: 'POST', headers: without.headers, body })).status).toBe(403);
    } finally {
      await temp.close();
    }
  });
});
