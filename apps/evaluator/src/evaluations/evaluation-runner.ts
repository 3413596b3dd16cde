import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import OpenAI from 'openai';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { StoredRow } from '../datasets/datasets.repository.js';
import { GatewayClient } from '../gateway/gateway-client.js';
import { GatewayIdentity, type GatewayCredentials } from '../gateway/gateway-identity.js';
import { EvaluationsRepository, type RunRow } from './evaluations.repository.js';
import { renderTemplate, templateView } from './prompt-template.js';
import { score, type RowScore } from './scorers.js';

/** Rows read from the database at a time: what a run holds in memory is this page plus the rows in flight. */
const PAGE_SIZE = 100;
/** A replica renews its runs' leases every third of this; a run whose holder died is taken over once it lapses. */
const LEASE_MS = 30_000;

/**
 * Runs evaluation runs in the background: rows stream from the database a page at a time, at most
 * `concurrency` in flight; each row's result is stored the moment it finishes. A run in state
 * `running` is resumed when the evaluator starts, skipping rows that have a result, so a restart
 * redoes at most the rows that were in flight. Cancelling stops new rows at once (in-flight rows
 * finish and are kept). With several evaluator replicas, a run is run by the one holding its lease
 * (renewed while it runs, given back on shutdown); a replica that dies without giving it back has
 * its runs taken over by another once the lease lapses.
 */
@Injectable()
export class EvaluationRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EvaluationRunner.name);
  private readonly active = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private stopping = false;
  private readonly owner = randomUUID();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repo: EvaluationsRepository,
    private readonly identity: GatewayIdentity,
    private readonly gateway: GatewayClient,
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
  ) {}

  onApplicationBootstrap(): void {
    void this.takeOver();
    this.timer = setInterval(() => void this.maintain(), LEASE_MS / 3);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    for (const { abort } of this.active.values()) abort.abort();
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
    await this.repo.release(this.owner).catch(() => undefined);
  }

  /** Starts a run this replica has just created (it takes the lease first). */
  start(runId: string): void {
    if (this.active.has(runId) || this.stopping) return;
    void this.repo
      .claim(this.owner, LEASE_MS, runId)
      .then((ids) => ids.forEach((id) => this.run(id)))
      .catch((err: unknown) => this.logger.error(`could not start evaluation run ${runId}: ${String(err)}`));
  }

  /** Running runs nobody holds: at start (resuming this replica's own after a restart) and whenever a holder's lease lapsed. */
  private async takeOver(): Promise<void> {
    try {
      const ids = await this.repo.claim(this.owner, LEASE_MS);
      const fresh = ids.filter((id) => !this.active.has(id));
      if (fresh.length > 0) this.logger.log(`resuming ${fresh.length} evaluation run(s): ${fresh.join(', ')}`);
      for (const id of fresh) this.run(id);
    } catch (err) {
      this.logger.error(`could not resume evaluation runs: ${String(err)}`);
    }
  }

  private async maintain(): Promise<void> {
    if (this.stopping) return;
    const mine = [...this.active.keys()];
    const kept = new Set(await this.repo.renew(this.owner, LEASE_MS, mine).catch(() => mine));
    // A run cancelled (or finished) through another replica stops here too.
    for (const id of mine) if (!kept.has(id)) this.cancel(id);
    await this.takeOver();
  }

  private run(runId: string): void {
    if (this.active.has(runId) || this.stopping) return;
    const abort = new AbortController();
    const done = this.execute(runId, abort.signal)
      .catch(async (err: unknown) => {
        if (this.stopping) return;
        this.logger.error(`evaluation run ${runId} failed: ${String((err as Error)?.stack ?? err)}`);
        await this.repo.finish(runId, 'failed', String((err as Error)?.message ?? err).slice(0, 2000)).catch(() => undefined);
      })
      .finally(() => this.active.delete(runId));
    this.active.set(runId, { abort, done });
  }

  /** Stops handing out rows of the run (on this replica); the caller has set its status. */
  cancel(runId: string): void {
    this.active.get(runId)?.abort.abort();
  }

  private async execute(runId: string, signal: AbortSignal): Promise<void> {
    const run = await this.repo.findById(runId);
    if (!run || run.status !== 'running') return;
    let after = 0;
    for (;;) {
      if (signal.aborted || (await this.repo.status(runId)) !== 'running') return;
      const page = await this.repo.pendingRows(run, after, PAGE_SIZE);
      if (page.length === 0) break;
      after = page.at(-1)!.row_index;
      await this.pool(page, run.concurrency, signal, (row) => this.runRow(run, row));
    }
    if (!signal.aborted) await this.repo.finish(runId, 'succeeded');
  }

  /** Runs `work` over `rows` with at most `concurrency` at once, stopping hand-outs when aborted. */
  private async pool(rows: StoredRow[], concurrency: number, signal: AbortSignal, work: (row: StoredRow) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < rows.length && !signal.aborted) await work(rows[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, worker));
  }

  /**
   * One row: the task through the gateway, then each scorer. All of the row's calls (task and
   * judges) carry one W3C trace id, so metering prices them under it and the row's cost is the
   * sum of that trace.
   */
  private async runRow(run: RunRow, row: StoredRow): Promise<void> {
    const traceId = randomBytes(16).toString('hex');
    const traceparent = () => `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const credentials = await this.identity.credentialsFor({ organisationId: run.organisation_id, projectId: run.project_id }, { keyId: run.actor_key_id, name: run.actor_name });
    const view = templateView(row);
    const messages = run.task.messages.map((m) => ({ role: m.role, content: renderTemplate(m.content, view) }));
    const started = Date.now();
    const answer = await this.gateway
      .chat(credentials, { model: run.task.model, messages, maxTokens: run.task.maxTokens, temperature: run.task.temperature }, this.config.upstreamTimeoutMs, traceparent())
      .catch((err: unknown) => ({ ok: false, output: null, inputTokens: null, outputTokens: null, error: `the gateway could not be reached: ${(err as Error).message}` }));
    const latencyMs = Date.now() - started;
    // Shutting down: the gateway call may have failed because of it, so the row is left for the resume.
    if (this.stopping) return;
    let scores: RowScore[] = [];
    let judgeCalls = 0;
    if (answer.ok && answer.output !== null) {
      const output = answer.output;
      for (const scorer of run.scorers) {
        if (scorer.type === 'llm_judge') judgeCalls++;
        if (this.stopping) return;
        scores.push(await score(scorer, { input: row.input, output, expected: row.expected, metadata: row.metadata }, () => this.judgeClient(credentials, traceparent())));
      }
    } else scores = [];
    if (this.stopping) return;
    await this.repo.insertResult({
      run_id: run.id,
      row_index: row.row_index,
      output: answer.output,
      error: answer.ok ? (answer.output === null ? 'the model answered no text' : null) : answer.error,
      scores,
      latency_ms: latencyMs,
      input_tokens: answer.inputTokens,
      output_tokens: answer.outputTokens,
      trace_id: traceId,
      expected_calls: 1 + judgeCalls,
    });
  }

  /** autoevals' classifiers take an OpenAI client: this one speaks to the gateway's /v1 as the evaluator's delegated identity. */
  private judgeClient(credentials: GatewayCredentials, traceparent: string): OpenAI {
    return new OpenAI({
      apiKey: credentials.token,
      baseURL: `${credentials.url.replace(/\/+$/, '')}/v1`,
      defaultHeaders: { traceparent },
      maxRetries: 0,
      timeout: this.config.upstreamTimeoutMs,
    });
  }
}
