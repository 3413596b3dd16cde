import OpenAI from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { adminCall, routeModel, waitForCostReport, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { startProduct, type Product } from '../support/e2e/product.js';

interface Group {
  key: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cost: string;
  partialUsageRequests: number;
  missingUsageRequests: number;
  estimatedRequests: number;
  errorRequests: number;
}

/**
 * A record for every call the gateway answered (issue 17.4): a client that leaves a stream before
 * the usage event leaves a record all the same, its usage estimated from the prompt and what was
 * streamed (with the model definition's tokenizer), marked estimated and partial, and priced.
 */
describe('a stream the client leaves early', () => {
  let fake: FakeOpenAI;
  let product: Product;
  let route: RoutedModel;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    product = await startProduct();
    route = await routeModel(product, { upstreamUrl: fake.url, modelName: 'left-early', upstreamModel: 'gpt-left-early' });
    await adminCall(product, 'POST', '/admin/model-definitions', {
      name: 'def-left-early',
      matchPattern: '^gpt-left-early$',
      tokenizer: 'o200k_base',
      prices: { input: '0.000001', output: '0.000002' },
      effectiveFrom: '2024-01-01T00:00:00Z',
    });
    await waitUntilRoutable(product, route);
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
  }, 60_000);

  it('is recorded with its usage estimated from the prompt and the events streamed, and priced', async () => {
    fake.enqueue({ kind: 'stream', deltas: ['One', ' two', ' three', ' four', ' five', ' six', ' seven', ' eight'], chunkDelayMs: 150, usage: { promptTokens: 2, completionTokens: 8 } });
    const client = new OpenAI({ apiKey: route.clientKey, baseURL: `${product.url}/v1`, maxRetries: 0 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: 'left-early', messages: [{ role: 'user', content: 'Hello world' }], stream: true, user: 'end-user-carol' }, { signal: controller.signal });
    let received = '';
    try {
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta?.content ?? '';
        if (received.includes('two')) controller.abort(); // the client leaves, long before the usage event
      }
    } catch (err) {
      expect(String(err)).toMatch(/abort/i);
    }
    expect(received).toBe('One two');

    const report = await waitForCostReport(product, (r) => r.groups.some((g) => g.key === 'gpt-left-early'));
    const group = report.groups.find((g) => g.key === 'gpt-left-early') as unknown as Group;
    // The prompt "Hello world" is 2 o200k_base tokens; the answer at least the 2 content events the client saw.
    expect(group).toMatchObject({ requests: 1, inputTokens: 2, partialUsageRequests: 1, estimatedRequests: 1, missingUsageRequests: 0 });
    expect(group.outputTokens).toBeGreaterThanOrEqual(2);
    expect(group.outputTokens).toBeLessThan(8);
    // 2 x 0.000001 + output x 0.000002, in millionths of a dollar.
    const micros = 2 + group.outputTokens * 2;
    expect(group.cost).toBe(`0.${String(micros).padStart(6, '0')}`.replace(/0+$/, ''));

    // The record itself: partial, estimated, for the end user the request named, grouped by them too.
    const records = await adminCall<{ items: Record<string, unknown>[] }>(product, 'GET', '/admin/usage/records?model=gpt-left-early');
    expect(records.items).toEqual([expect.objectContaining({ usageStatus: 'partial', estimated: true, userId: 'end-user-carol', providerModel: 'left-early', source: 'gateway', priced: true, cost: group.cost })]);
    const byUser = await adminCall<{ groups: { key: string; requests: number }[] }>(product, 'GET', '/admin/usage/costs?groupBy=user');
    expect(byUser.groups).toContainEqual(expect.objectContaining({ key: 'end-user-carol', requests: 1 }));
  });
});
