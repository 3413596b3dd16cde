import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-upstream/index.js';
import { adminCall, routeModel, waitUntilRoutable, type RoutedModel } from '../support/e2e/admin-setup.js';
import { productModeFromEnv, startProduct, type Product } from '../support/e2e/product.js';

/**
 * Datasets and evaluation runs through the admin API: the gateway forwards to the evaluator, which
 * calls the gateway's /v1 with a delegated token (task and LLM judge), stores each row's result as
 * it finishes, and reads the rows' costs from metering by trace id.
 */

interface RunView {
  id: string;
  status: string;
  rowsTotal: number;
  rowsDone: number;
  rowsErrored: number;
  datasetVersion: number;
  totalCost: string | null;
  rowsUnpriced: number;
  scores: { name: string; count: number; errors: number; mean: number | null; histogram: number[] }[];
}
interface ResultView {
  rowIndex: number;
  input: unknown;
  output: string | null;
  error: string | null;
  scores: { name: string; score: number | null; error: string | null; choice?: string | null; reasoning?: string | null }[];
  latencyMs: number;
  inputTokens: number | null;
  outputTokens: number | null;
  traceId: string;
  cost: string | null;
}

async function call(product: Product, key: string, method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${product.url}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function waitForRun(product: Product, id: string, done: (run: RunView) => boolean, timeoutMs = 60_000): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await adminCall<RunView>(product, 'GET', `/admin/evaluations/${id}`);
    if (done(run)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} not done after ${timeoutMs} ms: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function allResults(product: Product, id: string): Promise<ResultView[]> {
  const items: ResultView[] = [];
  for (let cursor: string | null = null; ; ) {
    const page: { items: ResultView[]; nextCursor: string | null } = await adminCall(product, 'GET', `/admin/evaluations/${id}/results?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    items.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) return items;
  }
}

const judgeChoice = (choice: string, reasons: string) => ({
  kind: 'completion' as const,
  toolCalls: [{ name: 'select_choice', arguments: JSON.stringify({ reasons, choice }) }],
  usage: { promptTokens: 50, completionTokens: 20 },
});

const relevanceJudge = (model: string) => ({
  type: 'llm_judge',
  name: 'relevance',
  judge: {
    model,
    promptTemplate: 'Question: {{input}}\nAnswer: {{output}}\nIs the answer relevant to the question?',
    choiceScores: { Relevant: 1, Irrelevant: 0 },
    useCot: true,
  },
});

const PRICES = { input: '0.000001', output: '0.000002' };

describe('evaluations', () => {
  let fake: FakeOpenAI;
  let product: Product;
  let task: RoutedModel;
  let judge: RoutedModel;
  let dataDir: string | undefined;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ apiKey: 'sk-upstream-evaluations-1234' });
    // Embedded mode restarts on the same data directory (the restart test); distributed restarts the evaluator's process.
    dataDir = productModeFromEnv() === 'embedded' ? await mkdtemp(path.join(os.tmpdir(), 'gw-e2e-eval-')) : undefined;
    // Distributed, the evaluator's old space is capped at 128 MB: garbage is then collected before the
    // heap grows past it, so the 10,000-row test's RSS growth shows what the run keeps rather than when
    // the collector happened to run (uncapped, the growth was 70-125 MB from run to run on one machine).
    product = await startProduct({ dataDir, serviceNodeArgs: { evaluator: ['--max-old-space-size=128'] } });
    task = await routeModel(product, { upstreamUrl: fake.url, upstreamKey: 'sk-upstream-evaluations-1234', prices: PRICES });
    judge = await routeModel(product, { upstreamUrl: fake.url, upstreamKey: 'sk-upstream-evaluations-1234', prices: PRICES });
    await waitUntilRoutable(product, task);
    await waitUntilRoutable(product, judge);
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
    await fake?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  beforeEach(() => fake.reset());

  it('keeps the good rows of a JSONL and a CSV upload, reports bad lines by number, and versions each batch', async () => {
    const dataset = await adminCall<{ id: string; version: number; rowCount: number }>(product, 'POST', '/admin/datasets', {
      name: `uploads-${Date.now()}`,
      rows: [{ input: 'first', expected: '1' }],
    });
    expect(dataset).toMatchObject({ version: 1, rowCount: 1 });
    const jsonl = await adminCall<{ accepted: number; rejected: { line: number; message: string }[]; dataset: { version: number; rowCount: number } }>(
      product,
      'POST',
      `/admin/datasets/${dataset.id}/uploads`,
      { format: 'jsonl', content: '{"input":"a","expected":"A"}\n{oops\n{"input":"b","metadata":{"topic":"t"}}\n{"expected":"no input"}\n' },
    );
    expect(jsonl.accepted).toBe(2);
    expect(jsonl.rejected.map((r) => r.line)).toEqual([2, 4]);
    expect(jsonl.dataset).toMatchObject({ version: 2, rowCount: 3 });
    const csv = await adminCall<typeof jsonl>(product, 'POST', `/admin/datasets/${dataset.id}/uploads`, {
      format: 'csv',
      content: 'input,expected,topic\nc,C,x\nbroken\nd,D,y\n',
    });
    expect(csv.accepted).toBe(2);
    expect(csv.rejected).toEqual([{ line: 3, message: '1 fields where the header has 3' }]);
    expect(csv.dataset).toMatchObject({ version: 3, rowCount: 5 });

    const v2 = await adminCall<{ items: { index: number; input: unknown; metadata: unknown }[] }>(product, 'GET', `/admin/datasets/${dataset.id}/rows?version=2`);
    expect(v2.items.map((r) => r.input)).toEqual(['first', 'a', 'b']);
    const latest = await adminCall<{ items: { input: unknown; expected: unknown; metadata: unknown }[] }>(product, 'GET', `/admin/datasets/${dataset.id}/rows`);
    expect(latest.items.at(-1)).toMatchObject({ input: 'd', expected: 'D', metadata: { topic: 'y' } });

    const bad = await call(product, product.adminKey, 'POST', `/admin/datasets/${dataset.id}/uploads`, { format: 'xml', content: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['content', 'format']);
  });

  it('scores a run as known in advance, parses the judge\'s choice and reasoning, records an unparseable judge answer as an error, and prices each row', async () => {
    const dataset = await adminCall<{ id: string }>(product, 'POST', '/admin/datasets', {
      name: `arithmetic-${Date.now()}`,
      rows: [
        { input: '2+2', expected: '4' },
        { input: '3+3', expected: '6' },
        { input: 'five plus five', expected: '10', metadata: { style: 'words' } },
      ],
    });
    fake.script(
      task.upstreamModel,
      { kind: 'completion', content: '4', usage: { promptTokens: 10, completionTokens: 1 } },
      { kind: 'completion', content: '7', usage: { promptTokens: 10, completionTokens: 1 } },
      { kind: 'completion', content: '{"n": 10}', usage: { promptTokens: 10, completionTokens: 1 } },
    );
    fake.script(
      judge.upstreamModel,
      judgeChoice('Relevant', 'It answers the sum.'),
      judgeChoice('Irrelevant', 'Seven is not three plus three.'),
      { kind: 'completion', content: 'I would say it is fine.', usage: { promptTokens: 50, completionTokens: 20 } },
    );
    const created = await adminCall<RunView>(product, 'POST', '/admin/evaluations', {
      datasetId: dataset.id,
      name: 'terse',
      concurrency: 1,
      task: { model: task.modelName, messages: [{ role: 'system', content: 'Answer with a number.' }, { role: 'user', content: 'What is {{input}}?' }] },
      scorers: [
        { type: 'exact_match' },
        { type: 'levenshtein' },
        { type: 'numeric_diff' },
        { type: 'valid_json' },
        { type: 'valid_json', name: 'json_schema', schema: { type: 'object', required: ['n'], properties: { n: { type: 'string' } } } },
        relevanceJudge(judge.modelName),
      ],
    });
    expect(created).toMatchObject({ status: 'running', rowsTotal: 3, datasetVersion: 1 });
    const run = await waitForRun(product, created.id, (r) => r.status !== 'running');
    expect(run).toMatchObject({ status: 'succeeded', rowsDone: 3, rowsErrored: 0 });

    // The task saw the rendered template, without HTML escaping; the evaluator never sent the admin's key.
    const taskRequests = fake.requests.filter((r) => (r.body as { model?: string }).model === task.upstreamModel);
    expect((taskRequests[0]!.body as { messages: { content: string }[] }).messages[1]!.content).toBe('What is 2+2?');
    expect(fake.requests.every((r) => r.headers.authorization === 'Bearer sk-upstream-evaluations-1234')).toBe(true);

    const results = await allResults(product, run.id);
    const byName = (r: ResultView, name: string) => r.scores.find((s) => s.name === name)!;
    expect(results.map((r) => r.output)).toEqual(['4', '7', '{"n": 10}']);
    expect(results.map((r) => byName(r, 'exact_match').score)).toEqual([1, 0, 0]);
    expect(results.map((r) => byName(r, 'levenshtein').score).slice(0, 2)).toEqual([1, 0]);
    // '{"n": 10}' -> '10': 7 edits over 9 characters.
    expect(byName(results[2]!, 'levenshtein').score).toBeCloseTo(1 - 7 / 9, 12);
    expect(byName(results[1]!, 'numeric_diff').score).toBeCloseTo(1 - 1 / 13, 12);
    expect(byName(results[2]!, 'numeric_diff')).toMatchObject({ score: null, error: expect.stringMatching(/not a number/) });
    // autoevals' ValidJSON takes JSON objects and arrays as valid documents, not bare numbers; the schema wants n as a string.
    expect(results.map((r) => byName(r, 'valid_json').score)).toEqual([0, 0, 1]);
    expect(results.map((r) => byName(r, 'json_schema').score)).toEqual([0, 0, 0]);
    expect(byName(results[0]!, 'relevance')).toMatchObject({ score: 1, choice: 'Relevant', reasoning: 'It answers the sum.', error: null });
    expect(byName(results[1]!, 'relevance')).toMatchObject({ score: 0, choice: 'Irrelevant', reasoning: 'Seven is not three plus three.' });
    expect(byName(results[2]!, 'relevance')).toMatchObject({ score: null, error: expect.stringMatching(/judge's answer could not be read/) });
    expect(results[0]).toMatchObject({ inputTokens: 10, outputTokens: 1 });
    expect(results[0]!.traceId).toMatch(/^[0-9a-f]{32}$/);

    const relevance = run.scores.find((s) => s.name === 'relevance')!;
    expect(relevance).toMatchObject({ count: 2, errors: 1, mean: 0.5 });
    expect(relevance.histogram[0]).toBe(1);
    expect(relevance.histogram[9]).toBe(1);
    expect(run.scores.find((s) => s.name === 'exact_match')).toMatchObject({ count: 3, errors: 0, mean: 0.333333333333 });

    // Cost per row = the task call (10 x 0.000001 + 1 x 0.000002) + the judge call (50 x 0.000001 + 20 x 0.000002), from metering.
    const deadline = Date.now() + 20_000;
    let priced = await allResults(product, run.id);
    while (priced.some((r) => r.cost === null) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      priced = await allResults(product, run.id);
    }
    expect(priced.map((r) => Number(r.cost))).toEqual([0.000102, 0.000102, 0.000102]);
    const total = await adminCall<RunView>(product, 'GET', `/admin/evaluations/${run.id}`);
    expect(total).toMatchObject({ totalCost: '0.000306', rowsUnpriced: 0 });
  }, 90_000);

  it('refuses a run with a bad scorer spec or a dataset version that does not exist, naming the fields', async () => {
    const dataset = await adminCall<{ id: string }>(product, 'POST', '/admin/datasets', { name: `refusals-${Date.now()}`, rows: [{ input: 'q' }] });
    const task = { model: 'any', messages: [{ role: 'user', content: '{{input}}' }] };
    const bad = await call(product, product.adminKey, 'POST', '/admin/evaluations', {
      datasetId: dataset.id,
      task,
      scorers: [
        { type: 'llm_judge', judge: { model: 'j', promptTemplate: 'p', choiceScores: { Yes: 2 } } },
        { type: 'llm_judge' },
        { type: 'exact_match', schema: {} },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual([
      'scorers.0.judge.choiceScores',
      'scorers.0.judge.choiceScores.Yes',
      'scorers.1.name',
      'scorers.1.judge',
      'scorers.2.schema',
    ]);
    const unknownType = await call(product, product.adminKey, 'POST', '/admin/evaluations', { datasetId: dataset.id, task, scorers: [{ type: 'vibes' }] });
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.error.details.map((d: { field: string }) => d.field)).toEqual(['scorers.0.type']);
    const version = await call(product, product.adminKey, 'POST', '/admin/evaluations', { datasetId: dataset.id, datasetVersion: 5, task, scorers: [{ type: 'exact_match' }] });
    expect(version.status).toBe(400);
    expect(version.body.error.details.map((d: { field: string }) => d.field)).toEqual(['datasetVersion']);
    const missing = await call(product, product.adminKey, 'POST', '/admin/evaluations', { datasetId: 'ds_nope', task, scorers: [{ type: 'exact_match' }] });
    expect({ status: missing.status, code: missing.body.error.code }).toEqual({ status: 404, code: 'not_found' });
  });

  it('compares two runs on the same dataset: per-row differences, improved and regressed rows', async () => {
    const dataset = await adminCall<{ id: string }>(product, 'POST', '/admin/datasets', {
      name: `compare-${Date.now()}`,
      rows: ['1', '2', '3', '4'].map((n) => ({ input: `say ${n}`, expected: n })),
    });
    const runWith = async (answers: string[]) => {
      fake.script(task.upstreamModel, ...answers.map((content) => ({ kind: 'completion' as const, content })));
      const created = await adminCall<RunView>(product, 'POST', '/admin/evaluations', {
        datasetId: dataset.id,
        concurrency: 1,
        task: { model: task.modelName, messages: [{ role: 'user', content: '{{input}}' }] },
        scorers: [{ type: 'exact_match' }],
      });
      return waitForRun(product, created.id, (r) => r.status !== 'running');
    };
    const baseline = await runWith(['1', 'x', '3', 'y']);
    const candidate = await runWith(['1', '2', 'z', 'y']);
    const comparison = await adminCall<{
      improved: number;
      regressed: number;
      unchanged: number;
      rows: { rowIndex: number; input: unknown; outputs: (string | null)[]; deltas: Record<string, (number | null)[]>; change: string }[];
    }>(product, 'GET', `/admin/evaluations/compare?runIds=${baseline.id},${candidate.id}`);
    expect(comparison).toMatchObject({ improved: 1, regressed: 1, unchanged: 2 });
    expect(comparison.rows).toEqual([
      { rowIndex: 2, input: 'say 2', outputs: ['x', '2'], scores: { exact_match: [0, 1] }, deltas: { exact_match: [1] }, change: 'improved' },
      { rowIndex: 3, input: 'say 3', outputs: ['3', 'z'], scores: { exact_match: [1, 0] }, deltas: { exact_match: [-1] }, change: 'regressed' },
    ]);

    const other = await adminCall<{ id: string }>(product, 'POST', '/admin/datasets', { name: `other-${Date.now()}`, rows: [{ input: 'q' }] });
    const elsewhere = await adminCall<RunView>(product, 'POST', '/admin/evaluations', {
      datasetId: other.id,
      task: { model: task.modelName, messages: [{ role: 'user', content: '{{input}}' }] },
      scorers: [{ type: 'valid_json' }],
    });
    const refused = await call(product, product.adminKey, 'GET', `/admin/evaluations/compare?runIds=${baseline.id},${elsewhere.id}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.details[0].field).toBe('runIds');
  }, 90_000);

  it('cancels a run: no row starts after the cancel, finished rows are kept', async () => {
    const dataset = await adminCall<{ id: string }>(product, 'POST', '/admin/datasets', {
      name: `cancel-${Date.now()}`,
      rows: Array.from({ length: 30 }, (_, i) => ({ input: `row ${i + 1}` })),
    });
    fake.setDefault({ kind: 'delay', ms: 150, then: { kind: 'completion', content: 'ok' } });
    const created = await adminCall<RunView>(product, 'POST', '/admin/evaluations', {
      datasetId: dataset.id,
      concurrency: 2,
      task: { model: task.modelName, messages: [{ role: 'user', content: '{{input}}' }] },
      scorers: [{ type: 'valid_json' }],
    });
    await waitForRun(product, created.id, (r) => r.rowsDone >= 2);
    const cancelled = await adminCall<RunView>(product, 'POST', `/admin/evaluations/${created.id}/cancel`);
    expect(cancelled.status).toBe('cancelled');
    const requestsAtCancel = fake.requests.length;
    await new Promise((r) => setTimeout(r, 1000));
    // At most the rows in flight at the cancel (concurrency 2) reach the upstream afterwards.
    expect(fake.requests.length - requestsAtCancel).toBeLessThanOrEqual(2);
    const after = await adminCall<RunView>(product, 'GET', `/admin/evaluations/${created.id}`);
    expect(after.status).toBe('cancelled');
    expect(after.rowsDone).toBeLessThan(30);
    expect(after.rowsDone).toBeGreaterThanOrEqual(2);
    const again = await call(product, product.adminKey, 'POST', `/admin/evaluations/${created.id}/cancel`);
    expect(again.status).toBe(409);
  }, 60_000);

  it('resumes a run after the evaluator restarts without repeating finished rows', async () => {
    const rows = 12;
    const dataset = await adminCall<{ id: string }>(product, 'POST', '/admin/datasets', {
      name: `resume-${Date.now()}`,
      rows: Array.from({ length: rows }, (_, i) => ({ input: `row ${i + 1}`, expected: 'ok' })),
    });
    fake.setDefault({ kind: 'delay', ms: 200, then: { kind: 'completion', content: 'ok' } });
    const created = await adminCall<RunView>(product, 'POST', '/admin/evaluations', {
      datasetId: dataset.id,
      concurrency: 1,
      task: { model: task.modelName, messages: [{ role: 'user', content: '{{input}}' }] },
      scorers: [{ type: 'exact_match' }],
    });
    await waitForRun(product, created.id, (r) => r.rowsDone >= 3);
    if (product.restartService) {
      await product.restartService('evaluator');
    } else {
      const adminKey = product.adminKey;
      await product.stop();
      product = await startProduct({ dataDir, adminKey });
    }
    const finishedBefore = new Set((await allResults(product, created.id)).map((r) => `row ${r.rowIndex}`));
    const requestsBefore = fake.requests.length;
    const run = await waitForRun(product, created.id, (r) => r.status !== 'running', 60_000);
    expect(run).toMatchObject({ status: 'succeeded', rowsDone: rows, rowsErrored: 0 });
    const promptsAfter = fake.requests.slice(requestsBefore).map((r) => (r.body as { messages: { content: string }[] }).messages[0]!.content);
    // No row that had a result before the restart was asked again.
    expect(promptsAfter.filter((p) => finishedBefore.has(p))).toEqual([]);
    // Every row was asked, at most once more than once (the one in flight when the evaluator stopped).
    const taskPrompts = fake.requests.map((r) => (r.body as { messages: { content: string }[] }).messages[0]!.content);
    expect(new Set(taskPrompts).size).toBe(rows);
    expect(taskPrompts.length).toBeLessThanOrEqual(rows + 1);
    const results = await allResults(product, created.id);
    expect(results.map((r) => r.rowIndex)).toEqual(Array.from({ length: rows }, (_, i) => i + 1));
    expect(results.every((r) => r.scores[0]!.score === 1)).toBe(true);
  }, 180_000);

  it('keeps a project admin out of another project\'s datasets and runs', async () => {
    const keyA = await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: 'eval-admin-a', role: 'admin', projectId: 'proj-eval-a' });
    const keyB = await adminCall<{ key: string }>(product, 'POST', '/admin/gateway-keys', { name: 'eval-admin-b', role: 'admin', projectId: 'proj-eval-b' });
    // Key changes reach the gateway's read model within a second.
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      if ((await call(product, keyB.key, 'GET', '/admin/datasets')).status === 200) break;
    }
    const created = await call(product, keyA.key, 'POST', '/admin/datasets', { name: 'secret-set', rows: [{ input: 'private question' }] });
    expect(created.status).toBe(201);
    expect(created.body.projectId).toBe('proj-eval-a');
    fake.setDefault({ kind: 'completion', content: 'fine' });
    const run = await call(product, keyA.key, 'POST', '/admin/evaluations', {
      datasetId: created.body.id,
      task: { model: task.modelName, messages: [{ role: 'user', content: '{{input}}' }] },
      scorers: [{ type: 'valid_json' }],
    });
    expect(run.status).toBe(201);

    for (const p of [`/admin/datasets/${created.body.id}`, `/admin/datasets/${created.body.id}/rows`, `/admin/evaluations/${run.body.id}`, `/admin/evaluations/${run.body.id}/results`]) {
      const answer = await call(product, keyB.key, 'GET', p);
      expect({ p, status: answer.status, code: answer.body.error?.code }).toEqual({ p, status: 404, code: 'not_found' });
    }
    expect((await call(product, keyB.key, 'POST', `/admin/datasets/${created.body.id}/rows`, { rows: [{ input: 'x' }] })).status).toBe(404);
    expect((await call(product, keyB.key, 'POST', `/admin/evaluations/${run.body.id}/cancel`)).status).toBe(404);
    const usingTheirs = await call(product, keyB.key, 'POST', '/admin/evaluations', {
      datasetId: created.body.id,
      task: { model: task.modelName, messages: [{ role: 'user', content: '{{input}}' }] },
      scorers: [{ type: 'valid_json' }],
    });
    expect(usingTheirs.status).toBe(404);
    const listB = await call(product, keyB.key, 'GET', '/admin/datasets');
    expect(listB.body.items.map((d: { id: string }) => d.id)).not.toContain(created.body.id);
    const runsB = await call(product, keyB.key, 'GET', '/admin/evaluations');
    expect(runsB.body.items.map((r: { id: string }) => r.id)).not.toContain(run.body.id);
    // The organisation's admin sees both.
    expect((await call(product, product.adminKey, 'GET', `/admin/evaluations/${run.body.id}`)).status).toBe(200);
  }, 60_000);

  it('runs a 10,000-row dataset with the evaluator\'s memory bounded', async () => {
    const rows = 10_000;
    const dataset = await adminCall<{ id: string }>(product, 'POST', '/admin/datasets', { name: `big-${Date.now()}` });
    // Two uploads of 5,000 lines (an admin body is at most 1 MB by default): versions 1 and 2, the run reads version 2.
    for (let part = 0; part < 2; part++) {
      const content = Array.from({ length: rows / 2 }, (_, i) => JSON.stringify({ input: `question ${part * 5000 + i + 1} ${'x'.repeat(50)}`, expected: 'ok' })).join('\n');
      const upload = await adminCall<{ accepted: number }>(product, 'POST', `/admin/datasets/${dataset.id}/uploads`, { format: 'jsonl', content });
      expect(upload.accepted).toBe(rows / 2);
    }
    fake.setDefault({ kind: 'completion', content: 'ok', usage: { promptTokens: 5, completionTokens: 1 } });
    const evaluatorProcess = product.mode === 'distributed' ? product.processes[3]! : product.gatewayProcess;
    const rss = async () => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${evaluatorProcess.pid}/status`, 'utf8'))![1]) * 1024;
    const before = await rss();
    let peak = before;
    const created = await adminCall<RunView>(product, 'POST', '/admin/evaluations', {
      datasetId: dataset.id,
      concurrency: 8,
      task: { model: task.modelName, messages: [{ role: 'user', content: '{{input}}' }] },
      scorers: [{ type: 'exact_match' }],
    });
    const deadline = Date.now() + 240_000;
    let run: RunView;
    for (;;) {
      run = await adminCall<RunView>(product, 'GET', `/admin/evaluations/${created.id}`);
      peak = Math.max(peak, await rss());
      if (run.status !== 'running' || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(run).toMatchObject({ status: 'succeeded', rowsTotal: rows, rowsDone: rows, rowsErrored: 0 });
    expect(run.scores).toEqual([expect.objectContaining({ name: 'exact_match', count: rows, mean: 1 })]);
    // Rows are read 100 at a time; the process must not grow with the dataset (10,000 rows of ~250 bytes
    // plus their results would be tens of MB held at once if loaded whole, with their JSON copies).
    // Only the distributed product gives the evaluator a process of its own to measure: embedded, the
    // same RSS also holds the gateway's and metering's work for the 10,000 calls (the runner's own
    // bound, pages of 100 and `concurrency` rows in flight, is unit-tested in evaluation-runner.spec).
    if (product.mode === 'distributed') expect(peak - before).toBeLessThan(100 * 1024 * 1024);
  }, 300_000);
});
