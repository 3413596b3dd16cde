import { request } from 'undici';
import type { Product } from '../support/e2e/product.js';

/**
 * What the benchmark sets up through the admin API, as an operator would: connections to the fast
 * and the slow OpenAI-format upstream and to the Anthropic-format one, provider models (one without
 * limits, two with max_input_tokens, one on the slow upstream, an embedding model, a Claude model),
 * model definitions that price them, and a client key.
 */

export const UPSTREAM_KEY = 'sk-bench-upstream-9c1d4e2b7f3a';
export const UPSTREAM_MODEL = 'gpt-4o-mini-2024-07-18';
export const UPSTREAM_EMBEDDING_MODEL = 'text-embedding-3-small';
export const ANTHROPIC_UPSTREAM_KEY = 'sk-ant-bench-upstream-5e8a0c3d9b71';
export const ANTHROPIC_UPSTREAM_MODEL = 'claude-sonnet-4-5-20250929';

export const BENCH_MODELS = {
  /** Fast upstream, no limits. */
  plain: 'bench-gpt',
  /** Fast upstream, max_input_tokens above the 100 KB prompt's byte count: the byte bound decides. */
  limited: 'bench-gpt-limited',
  /** Fast upstream, max_input_tokens below the prompt's bytes but above its tokens: only counting decides. */
  tight: 'bench-gpt-tight',
  /** The slow upstream (chunks spaced out), for held-open streams and the no-buffering check. */
  slow: 'bench-gpt-slow',
  /** Fast upstream, text-embedding-3-small: POST /v1/embeddings. */
  embedding: 'bench-embed',
  /** The Anthropic-format upstream, through a connection with adapter 'anthropic'. */
  claude: 'bench-claude',
  /**
   * The fast upstream with the gateway policy configured but never triggered (issue 15): two
   * targets on connections with retries and circuit breakers, failover by default, and requests and
   * tokens per minute far above any load.
   */
  policy: 'bench-gpt-policy',
} as const;

/** The models every scenario of the first benchmark (issue 4) needs: set-up fails without them. */
const CORE_MODELS: readonly string[] = [BENCH_MODELS.plain, BENCH_MODELS.limited, BENCH_MODELS.tight, BENCH_MODELS.slow];

/** A real model's context window: a 100 KB prompt fits by bytes alone. */
export const LIMITED_MAX_INPUT_TOKENS = 128_000;
/** Below 100 KB of bytes, above the ~25k tokens of the prompt: the byte bound cannot decide. */
export const TIGHT_MAX_INPUT_TOKENS = 60_000;

export interface BenchSetup {
  clientKey: string;
  /**
   * What set-up could not do for the newer scenarios (issue 12), one line each: the gateway paths
   * that need it then fail in their rounds, with the gateway's answer, rather than stop the run.
   */
  problems: string[];
}

async function admin<T>(product: Product, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await request(`${product.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${product.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${path} answered ${res.statusCode}: ${text}`);
  return JSON.parse(text) as T;
}

export async function setUpProduct(product: Product, upstreams: { fast: string; slow: string; anthropic: string }): Promise<BenchSetup> {
  const problems: string[] = [];
  const fast = await admin<{ id: string }>(product, 'POST', '/admin/connections', { name: 'bench-fast-upstream', adapter: 'openai-compatible', baseUrl: upstreams.fast, apiKey: UPSTREAM_KEY });
  const slow = await admin<{ id: string }>(product, 'POST', '/admin/connections', { name: 'bench-slow-upstream', adapter: 'openai-compatible', baseUrl: upstreams.slow, apiKey: UPSTREAM_KEY });
  await admin(product, 'POST', '/admin/provider-models', { name: BENCH_MODELS.plain, connectionId: fast.id, upstreamModel: UPSTREAM_MODEL });
  await admin(product, 'POST', '/admin/provider-models', { name: BENCH_MODELS.limited, connectionId: fast.id, upstreamModel: UPSTREAM_MODEL, maxInputTokens: LIMITED_MAX_INPUT_TOKENS });
  await admin(product, 'POST', '/admin/provider-models', { name: BENCH_MODELS.tight, connectionId: fast.id, upstreamModel: UPSTREAM_MODEL, maxInputTokens: TIGHT_MAX_INPUT_TOKENS });
  await admin(product, 'POST', '/admin/provider-models', { name: BENCH_MODELS.slow, connectionId: slow.id, upstreamModel: UPSTREAM_MODEL });
  await admin(product, 'POST', '/admin/provider-models', { name: BENCH_MODELS.embedding, connectionId: fast.id, upstreamModel: UPSTREAM_EMBEDDING_MODEL, kind: 'embedding' });
  try {
    const policySettings = { maxRetries: 2, retryDelayMs: 100, circuitFailureThreshold: 5 };
    const policyA = await admin<{ id: string }>(product, 'POST', '/admin/connections', { name: 'bench-fast-policy-a', adapter: 'openai-compatible', baseUrl: upstreams.fast, apiKey: UPSTREAM_KEY, settings: policySettings });
    const policyB = await admin<{ id: string }>(product, 'POST', '/admin/connections', { name: 'bench-fast-policy-b', adapter: 'openai-compatible', baseUrl: upstreams.fast, apiKey: UPSTREAM_KEY, settings: policySettings });
    await admin(product, 'POST', '/admin/provider-models', {
      name: BENCH_MODELS.policy,
      targets: [
        { connectionId: policyA.id, upstreamModel: UPSTREAM_MODEL, weight: 1 },
        { connectionId: policyB.id, upstreamModel: UPSTREAM_MODEL, weight: 1 },
      ],
      failoverByDefault: true,
      requestsPerMinute: 1_000_000_000,
      tokensPerMinute: 1_000_000_000,
    });
  } catch (err) {
    problems.push(`the policy model ${BENCH_MODELS.policy} could not be created: ${(err as Error).message}`);
  }
  // Anthropic's adapter takes the API root (no /v1) and appends /v1/messages itself; x-api-key carries the key.
  const anthropicRoot = new URL(upstreams.anthropic).origin;
  try {
    const anthropic = await admin<{ id: string }>(product, 'POST', '/admin/connections', { name: 'bench-anthropic-upstream', adapter: 'anthropic', baseUrl: anthropicRoot, apiKey: ANTHROPIC_UPSTREAM_KEY });
    await admin(product, 'POST', '/admin/provider-models', { name: BENCH_MODELS.claude, connectionId: anthropic.id, upstreamModel: ANTHROPIC_UPSTREAM_MODEL });
  } catch (err) {
    problems.push(`the Anthropic connection or its model ${BENCH_MODELS.claude} could not be created: ${(err as Error).message}`);
  }
  await admin(product, 'POST', '/admin/model-definitions', {
    name: 'gpt-4o-mini',
    matchPattern: '^gpt-4o-mini',
    prices: { input: '0.00000015', output: '0.0000006' },
    effectiveFrom: '2024-01-01T00:00:00Z',
  });
  await admin(product, 'POST', '/admin/model-definitions', { name: 'text-embedding-3-small', matchPattern: '^text-embedding-3-small', prices: { input: '0.00000002' }, effectiveFrom: '2024-01-01T00:00:00Z' });
  await admin(product, 'POST', '/admin/model-definitions', {
    name: 'claude-sonnet-4-5',
    matchPattern: '^claude-sonnet-4-5',
    tokenizer: 'none',
    prices: { input: '0.000003', output: '0.000015', cache_read: '0.0000003', cache_write: '0.00000375' },
    effectiveFrom: '2025-09-29T00:00:00Z',
  });
  const key = await admin<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: 'bench-client' });
  await waitUntilRoutable(product.url, key.key, CORE_MODELS);
  const newer = Object.values(BENCH_MODELS).filter((m) => !CORE_MODELS.includes(m));
  // /v1/models lists only what an adapter of the gateway can serve: a model it leaves out fails its scenario's gateway rounds.
  const missing = await waitUntilRoutable(product.url, key.key, newer, 3000).then(
    () => [],
    (err: unknown) => [(err as Error).message],
  );
  problems.push(...missing);
  return { clientKey: key.key, problems };
}

/** Change events reach the gateway's read model within a second; /v1/models shows when they have (and records no usage). */
async function waitUntilRoutable(url: string, clientKey: string, models: readonly string[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const res = await request(`${url}/v1/models`, { headers: { authorization: `Bearer ${clientKey}` } });
    last = await res.body.text();
    if (res.statusCode === 200) {
      const ids = new Set((JSON.parse(last) as { data: { id: string }[] }).data.map((m) => m.id));
      if (models.every((m) => ids.has(m))) return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the gateway did not route ${models.join(', ')} within ${timeoutMs} ms; /v1/models said: ${last}`);
}
