import type { AppConfig } from '#libs/config';
import type { StoredRow } from '../datasets/datasets.repository.js';
import type { GatewayClient } from '../gateway/gateway-client.js';
import type { GatewayIdentity } from '../gateway/gateway-identity.js';
import { EvaluationRunner } from './evaluation-runner.js';
import type { EvaluationsRepository, ResultRow, RunRow } from './evaluations.repository.js';

/** A dataset of `total` rows behind a repository fake that serves pending rows as the database would. */
function fakeRepo(total: number, run: RunRow) {
  const results = new Map<number, Omit<ResultRow, 'cost' | 'priced'>>();
  const pageLimits: number[] = [];
  let status = run.status;
  const repo = {
    findById: async () => ({ ...run, status }),
    status: async () => status,
    finish: async (_id: string, s: typeof status) => {
      if (status !== 'running') return false;
      status = s;
      return true;
    },
    pendingRows: async (_run: RunRow, after: number, limit: number): Promise<StoredRow[]> => {
      pageLimits.push(limit);
      const rows: StoredRow[] = [];
      for (let i = after + 1; i <= total && rows.length < limit; i++) {
        if (!results.has(i)) rows.push({ row_index: i, version: 1, input: `q${i}`, expected: 'ok', metadata: {} });
      }
      return rows;
    },
    claim: async (_owner: string, _ms: number, id?: string) => (id && status === 'running' ? [id] : []),
    renew: async (_owner: string, _ms: number, ids: string[]) => (status === 'running' ? ids : []),
    release: async () => undefined,
    insertResult: async (r: Omit<ResultRow, 'cost' | 'priced'>) => void results.set(r.row_index, r),
  };
  return { repo: repo as unknown as EvaluationsRepository, results, pageLimits, status: () => status, cancel: () => (status = 'cancelled') };
}

const run: RunRow = {
  id: 'evr_1',
  organisation_id: 'org',
  project_id: null,
  actor_key_id: 'key_admin',
  actor_name: 'ops',
  name: null,
  dataset_id: 'ds_1',
  dataset_version: 1,
  task: { model: 'm', messages: [{ role: 'user', content: '{{input}}' }] },
  scorers: [{ type: 'exact_match' }],
  concurrency: 3,
  status: 'running',
  rows_total: 0,
  error: null,
  created_at: new Date(),
  finished_at: null,
};

function runnerWith(repo: EvaluationsRepository, onCall: () => Promise<void> = async () => undefined) {
  let inFlight = 0;
  let peak = 0;
  const gateway = {
    chat: async () => {
      peak = Math.max(peak, ++inFlight);
      await onCall();
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      return { ok: true, output: 'ok', inputTokens: 1, outputTokens: 1, error: null };
    },
  } as unknown as GatewayClient;
  const identity = { credentialsFor: async () => ({ url: 'http://gw', token: 't' }) } as unknown as GatewayIdentity;
  const runner = new EvaluationRunner(repo, identity, gateway, { upstreamTimeoutMs: 1000 } as AppConfig);
  return { runner, peak: () => peak };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('EvaluationRunner', () => {
  it('reads rows a page of 100 at a time, keeps at most `concurrency` in flight, and stores every row once', async () => {
    const fake = fakeRepo(1000, run);
    const { runner, peak } = runnerWith(fake.repo);
    runner.start(run.id);
    await until(() => fake.status() !== 'running');
    expect(fake.status()).toBe('succeeded');
    expect(fake.results.size).toBe(1000);
    expect(Math.max(...fake.pageLimits)).toBe(100);
    expect(peak()).toBe(3);
    expect([...fake.results.values()].every((r) => r.scores[0]!.score === 1 && /^[0-9a-f]{32}$/.test(r.trace_id))).toBe(true);
  });

  it('starts no row after a cancel and does not mark the run succeeded', async () => {
    const fake = fakeRepo(500, run);
    let calls = 0;
    const { runner } = runnerWith(fake.repo, async () => {
      calls++;
    });
    runner.start(run.id);
    await until(() => fake.results.size >= 10);
    fake.cancel();
    runner.cancel(run.id);
    const atCancel = calls;
    await new Promise((r) => setTimeout(r, 100));
    expect(calls - atCancel).toBeLessThanOrEqual(run.concurrency);
    expect(fake.status()).toBe('cancelled');
    expect(fake.results.size).toBeLessThan(500);
  });
});
