import type { Product } from './product.js';

/** What a test needs to call the gateway: a client key and the names it set up. */
export interface RoutedModel {
  clientKey: string;
  connectionId: string;
  modelName: string;
  upstreamModel: string;
}

export interface RouteOptions {
  upstreamUrl: string;
  /** The connection's adapter; openai-compatible by default. */
  adapter?: string;
  upstreamKey?: string;
  modelName?: string;
  upstreamModel?: string;
  /** The endpoints that may call the model; chat by default. */
  kind?: 'chat' | 'completion' | 'embedding';
  maxInputTokens?: number;
  maxOutputTokens?: number;
  /** Prices per token; omit to leave the model unpriced. */
  prices?: Record<string, string>;
  headers?: Record<string, string>;
}

/** Calls the admin API as an operator would and fails loudly with the answer when a step is refused. */
export async function adminCall<T>(product: Product, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${product.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${product.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

let seq = 0;

/** Connection + provider model (+ definition) + client key, through the admin API. */
export async function routeModel(product: Product, options: RouteOptions): Promise<RoutedModel> {
  const n = ++seq;
  const modelName = options.modelName ?? `model-${n}`;
  const upstreamModel = options.upstreamModel ?? `upstream-model-${n}`;
  const connection = await adminCall<{ id: string }>(product, 'POST', '/admin/connections', {
    name: `conn-${n}-${Date.now()}`,
    adapter: options.adapter ?? 'openai-compatible',
    baseUrl: options.upstreamUrl,
    apiKey: options.upstreamKey ?? 'sk-upstream-test-key-0000',
    ...(options.headers ? { headers: options.headers } : {}),
  });
  await adminCall(product, 'POST', '/admin/provider-models', {
    name: modelName,
    connectionId: connection.id,
    upstreamModel,
    ...(options.kind ? { kind: options.kind } : {}),
    ...(options.maxInputTokens ? { maxInputTokens: options.maxInputTokens } : {}),
    ...(options.maxOutputTokens ? { maxOutputTokens: options.maxOutputTokens } : {}),
  });
  if (options.prices) {
    await adminCall(product, 'POST', '/admin/model-definitions', {
      name: `def-${n}-${Date.now()}`,
      matchPattern: `^${upstreamModel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
      prices: options.prices,
      effectiveFrom: '2024-01-01T00:00:00Z',
    });
  }
  const key = await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: `client-${n}` });
  return { clientKey: key.key, connectionId: connection.id, modelName, upstreamModel };
}

/**
 * Waits until the gateway routes the model for the key. Change events arrive within a second; the
 * default allows 10 s because this is set-up, not the property under test, and a busy 2-core CI
 * machine running several suites can take longer (it returns as soon as the model is routable).
 */
export async function waitUntilRoutable(product: Product, route: RoutedModel, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${product.url}/v1/models`, { headers: { authorization: `Bearer ${route.clientKey}` } });
    if (res.status === 200) {
      const body = (await res.json()) as { data: { id: string }[] };
      if (body.data.some((m) => m.id === route.modelName)) return;
    }
    if (Date.now() > deadline) throw new Error(`model ${route.modelName} not routable after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface CostReport {
  groups: { key: string; requests: number; inputTokens: number; outputTokens: number; cost: string; unpricedRequests: number }[];
  totalCost: string;
}

/** Polls the cost report (grouped by model) until `done` holds: metering works off the request path. */
export async function waitForCostReport(product: Product, done: (report: CostReport) => boolean, timeoutMs = 20_000): Promise<CostReport> {
  const deadline = Date.now() + timeoutMs;
  let last: CostReport | undefined;
  while (Date.now() < deadline) {
    last = await adminCall<CostReport>(product, 'GET', '/admin/usage/costs?groupBy=model');
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the cost report never showed the calls: ${JSON.stringify(last)}`);
}

/**
 * The cost report's group for one model, once it appears; with `priced`, once none of its calls is
 * unpriced: a definition made just before the call may reach metering after the call's span, which
 * is then priced again as soon as it does (UnpricedRecordsRepricer).
 */
export async function waitForModelCosts(product: Product, model: string, options: { priced?: boolean } = {}): Promise<CostReport['groups'][number]> {
  const report = await waitForCostReport(product, (r) => r.groups.some((g) => g.key === model && (!options.priced || g.unpricedRequests === 0)));
  return report.groups.find((g) => g.key === model)!;
}
