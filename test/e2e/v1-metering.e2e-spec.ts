import OpenAI from 'openai';
import { startFakeAnthropic, startFakeOpenAI, type FakeAnthropic, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { routeModel, waitForCostReport, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

interface Group {
  key: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  unpricedRequests: number;
  cost: string;
  missingUsageRequests: number;
  partialUsageRequests: number;
  errorRequests: number;
}

/**
 * What metering records of /v1 calls, read from the cost report: usage comes from the adapter's
 * parts (an Anthropic answer's cache parts priced each at its own price, through a translated
 * call), and a call whose usage the gateway could not read is still recorded, as missing.
 */
describe('/v1 metering across formats', () => {
  let anthropicFake: FakeAnthropic;
  let openAIFake: FakeOpenAI;
  let product: Product;
  let claude: RoutedModel;
  let gpt: RoutedModel;

  beforeAll(async () => {
    anthropicFake = await startFakeAnthropic();
    openAIFake = await startFakeOpenAI();
    product = await startProduct();
    claude = await routeModel(product, {
      upstreamUrl: anthropicFake.url,
      adapter: 'anthropic',
      modelName: 'metered-claude',
      upstreamModel: 'claude-sonnet-4-5-metered',
      prices: { input: '0.000003', output: '0.000015', cache_read: '0.0000003', cache_write: '0.00000375' },
    });
    gpt = await routeModel(product, { upstreamUrl: openAIFake.url, modelName: 'usage-less-gpt', upstreamModel: 'gpt-usage-less', prices: { input: '0.000001', output: '0.000002' }, maxOutputTokens: 100 });
    await waitUntilRoutable(product, claude);
    await waitUntilRoutable(product, gpt);
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await anthropicFake?.close();
    await openAIFake?.close();
  }, 60_000);

  const groupOf = async (model: string, done: (g: Group) => boolean): Promise<Group> => {
    const report = await waitForCostReport(product, (r) => r.groups.some((g) => g.key === model && done(g as unknown as Group)));
    return report.groups.find((g) => g.key === model) as unknown as Group;
  };

  it('meters an openai client’s call to Claude with its cache parts, each at its own price', async () => {
    const client = new OpenAI({ apiKey: claude.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    const usage = { inputTokens: 100, outputTokens: 10, cacheReadInputTokens: 50, cacheCreationInputTokens: 20 };
    anthropicFake.enqueue({ kind: 'message', content: 'cached answer', usage }, { kind: 'message', content: 'cached answer', usage });
    const whole = await client.chat.completions.create({ model: 'metered-claude', messages: [{ role: 'user', content: 'hi' }] });
    expect(whole.choices[0]?.message.content).toBe('cached answer');
    // OpenAI's prompt_tokens include cached ones; the cached part is named.
    expect(whole.usage).toMatchObject({ prompt_tokens: 170, completion_tokens: 10, prompt_tokens_details: { cached_tokens: 50 } });
    const stream = await client.chat.completions.create({ model: 'metered-claude', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    let streamedUsage: unknown;
    for await (const chunk of stream) if (chunk.usage) streamedUsage = chunk.usage;
    expect(streamedUsage).toMatchObject({ prompt_tokens: 170, completion_tokens: 10 });

    const group = await groupOf('claude-sonnet-4-5-metered', (g) => g.requests >= 2 && g.unpricedRequests === 0);
    expect(group).toMatchObject({ inputTokens: 340, outputTokens: 20, missingUsageRequests: 0, errorRequests: 0 });
    // Per call: 100 uncached x 0.000003 + 50 read x 0.0000003 + 20 written x 0.00000375 + 10 out x 0.000015 = 0.00054.
    expect(Number(group.cost)).toBeCloseTo(2 * 0.00054, 12);
  });

  it('reports the parameters Claude cannot honour in x-gateway-warnings instead of dropping them silently', async () => {
    const client = new OpenAI({ apiKey: claude.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    anthropicFake.enqueue({ kind: 'message', content: 'ok' });
    const { response } = await client.chat.completions.create({ model: 'metered-claude', messages: [{ role: 'user', content: 'hi' }], seed: 7, presence_penalty: 0.5 }).withResponse();
    const warnings = response.headers.get('x-gateway-warnings') ?? '';
    expect(warnings).toContain('seed is not supported by this provider');
    expect(warnings).toContain('presence_penalty is not supported by this provider');
    expect(anthropicFake.requests.at(-1)?.body).not.toHaveProperty('seed');
    // A call without such parameters carries no warnings header.
    anthropicFake.enqueue({ kind: 'message', content: 'ok' });
    const plain = await client.chat.completions.create({ model: 'metered-claude', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(plain.response.headers.get('x-gateway-warnings')).toBeNull();
  });

  it('records a call whose answer carries no usage as missing usage, never as free', async () => {
    const client = new OpenAI({ apiKey: gpt.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    openAIFake.enqueue({
      kind: 'raw',
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'chatcmpl-nousage',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-usage-less',
        choices: [{ index: 0, message: { role: 'assistant', content: 'no usage here', refusal: null }, logprobs: null, finish_reason: 'stop' }],
      }),
    });
    const answer = await client.chat.completions.create({ model: 'usage-less-gpt', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]?.message.content).toBe('no usage here');
    const group = await groupOf('gpt-usage-less', (g) => g.requests >= 1);
    expect(group).toMatchObject({ requests: 1, missingUsageRequests: 1, errorRequests: 0, inputTokens: 0, outputTokens: 0 });

    // A call the model's own limit refuses was answered too: recorded, as an error without usage.
    const refused = await client.chat.completions.create({ model: 'usage-less-gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1000 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400, code: 'max_tokens_exceeded' });
    const after = await groupOf('gpt-usage-less', (g) => g.requests >= 2);
    expect(after).toMatchObject({ requests: 2, missingUsageRequests: 2, errorRequests: 1 });
    expect(openAIFake.requests).toHaveLength(1);
  });
});
