import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import {
  AppError,
  type CommandEnvelope,
  type CreatePlaygroundSessionDto,
  type ListInput,
  type Page,
  type PlaygroundModelResultView,
  type PlaygroundSessionView,
  type PlaygroundStreamCommand,
  type TenantScope,
} from '#libs/contracts';
import { newId } from '#libs/db';
import { ownerOfNewRow } from '#libs/tenancy';
import { DataSource } from 'typeorm';
import { decodeCreatedCursor, encodeCreatedCursor } from '../common/page-cursor.js';
import { scopeClause, scopedPage } from '../common/tenant-sql.js';
import { streamChat } from '../gateway/chat-stream.js';
import { GatewayIdentity } from '../gateway/gateway-identity.js';
import { TraceCosts } from '../gateway/trace-costs.js';

interface SessionRow {
  id: string;
  organisation_id: string;
  project_id: string | null;
  actor_key_id: string;
  rerun_of: string | null;
  request: CreatePlaygroundSessionDto;
  created_at: Date;
}

interface RunRow {
  id: string;
  session_id: string;
  model: string;
  status: 'succeeded' | 'failed';
  output: string | null;
  tool_calls: unknown[] | null;
  error: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  trace_id: string | null;
  cost: string | null;
}

/**
 * Playground sessions: one prompt against several models at once. Each model is streamed from the
 * gateway's /v1 in parallel with the evaluator's delegated identity; its pieces are published as
 * events the gateway relays to the client as one multiplexed SSE stream. A model that fails ends
 * its own part with an error; the others go on. The session and each model's answer are saved.
 */
@Injectable()
export class PlaygroundSessionsService {
  private readonly logger = new Logger(PlaygroundSessionsService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly identity: GatewayIdentity,
    private readonly costs: TraceCosts,
    private readonly bus: BusClient,
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
  ) {}

  async stream(envelope: CommandEnvelope<PlaygroundStreamCommand>): Promise<PlaygroundSessionView> {
    const { scope, actor, input } = envelope;
    let request = input.session;
    if (input.rerunOf !== undefined) request = (await this.found(scope, input.rerunOf)).request;
    if (!request) throw AppError.validation([{ field: 'session', messages: ['a prompt (session) or the session to re-run (rerunOf) is needed'] }]);
    const owner = ownerOfNewRow(scope, undefined);
    await this.dataSource.query(`INSERT INTO playground_sessions (id, organisation_id, project_id, actor_key_id, rerun_of, request) VALUES ($1, $2, $3, $4, $5, $6::jsonb)`, [
      input.sessionId,
      owner.organisationId,
      owner.projectId,
      actor.keyId,
      input.rerunOf ?? null,
      JSON.stringify(request),
    ]);
    const credentials = await this.identity.credentialsFor(scope, actor);
    const results = await Promise.all(
      request.models.map(async (model, position): Promise<PlaygroundModelResultView> => {
        const runId = newId('run');
        const traceId = randomBytes(16).toString('hex');
        const publish = (event: { type: 'start' | 'delta' | 'done'; text?: string; result?: PlaygroundModelResultView }) =>
          void this.bus.publish('evaluator.v1.events.playground-stream', { sessionId: input.sessionId, model, ...event }).catch(() => undefined);
        publish({ type: 'start' });
        const started = Date.now();
        const answer = await streamChat(
          credentials,
          {
            model,
            messages: request.messages,
            ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
            ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
            ...(request.tools ? { tools: request.tools } : {}),
          },
          { timeoutMs: this.config.upstreamTimeoutMs, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, onText: (text) => publish({ type: 'delta', text }) },
        ).catch((err: unknown) => ({
          ok: false,
          output: null,
          toolCalls: null,
          inputTokens: null,
          outputTokens: null,
          error: `the gateway could not be reached: ${(err as Error).message}`,
          ttftMs: null,
        }));
        const result: PlaygroundModelResultView = {
          runId,
          model,
          status: answer.ok ? 'succeeded' : 'failed',
          output: answer.output,
          toolCalls: answer.toolCalls,
          error: answer.error,
          latencyMs: Date.now() - started,
          ttftMs: answer.ttftMs,
          inputTokens: answer.inputTokens,
          outputTokens: answer.outputTokens,
          traceId,
          cost: null,
        };
        await this.dataSource.query(
          `INSERT INTO playground_runs (id, organisation_id, project_id, actor_key_id, model, messages, status, output, input_tokens, output_tokens, error, latency_ms,
                                        session_id, position, ttft_ms, tool_calls, trace_id)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17)`,
          [
            runId,
            owner.organisationId,
            owner.projectId,
            actor.keyId,
            model,
            JSON.stringify(request.messages),
            result.status,
            result.output,
            result.inputTokens,
            result.outputTokens,
            result.error,
            result.latencyMs,
            input.sessionId,
            position,
            result.ttftMs,
            result.toolCalls === null ? null : JSON.stringify(result.toolCalls),
            traceId,
          ],
        );
        publish({ type: 'done', result });
        return result;
      }),
    );
    const session = (await this.found(scope, input.sessionId))!;
    return this.view(session, results);
  }

  async list(scope: TenantScope, input: ListInput): Promise<Page<PlaygroundSessionView>> {
    const limit = Math.min(Math.max(input.limit ?? 50, 1), 200);
    const after = input.cursor ? decodeCreatedCursor(input.cursor) : undefined;
    const rows = await scopedPage<SessionRow>(this.dataSource, 'playground_sessions', scope, limit + 1, after, 'DESC');
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: await Promise.all(page.map((s) => this.withResults(s))),
      nextCursor: rows.length > limit && last ? encodeCreatedCursor(last) : null,
    };
  }

  async get(scope: TenantScope, id: string): Promise<PlaygroundSessionView> {
    return this.withResults(await this.found(scope, id));
  }

  private async found(scope: TenantScope, id: string): Promise<SessionRow> {
    const params: unknown[] = [id];
    const row = ((await this.dataSource.query(`SELECT * FROM playground_sessions WHERE id = $1 AND ${scopeClause(scope, params)}`, params)) as SessionRow[])[0];
    if (!row) throw AppError.notFound('playground session', id);
    return row;
  }

  /** The session's saved answers, with costs metering has priced since (kept once known). */
  private async withResults(session: SessionRow): Promise<PlaygroundSessionView> {
    const runs = (await this.dataSource.query(`SELECT * FROM playground_runs WHERE session_id = $1 ORDER BY position`, [session.id])) as RunRow[];
    const unpriced = runs.filter((r) => r.cost === null && r.trace_id !== null);
    if (unpriced.length > 0) {
      const scope = { organisationId: session.organisation_id, projectId: session.project_id };
      const found = await this.costs.lookup(scope, { keyId: session.actor_key_id, name: 'playground' }, unpriced.map((r) => r.trace_id!));
      for (const r of unpriced) {
        const t = found.get(r.trace_id!);
        if (t && t.cost !== null && t.unpricedCalls === 0) {
          r.cost = t.cost;
          await this.dataSource.query(`UPDATE playground_runs SET cost = $2::numeric WHERE id = $1`, [r.id, t.cost]);
        }
      }
    }
    return this.view(
      session,
      runs.map((r) => ({
        runId: r.id,
        model: r.model,
        status: r.status,
        output: r.output,
        toolCalls: r.tool_calls,
        error: r.error,
        latencyMs: r.latency_ms,
        ttftMs: r.ttft_ms,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        traceId: r.trace_id,
        cost: r.cost,
      })),
    );
  }

  private view(s: SessionRow, results: PlaygroundModelResultView[]): PlaygroundSessionView {
    return {
      id: s.id,
      organisationId: s.organisation_id,
      projectId: s.project_id,
      rerunOf: s.rerun_of,
      request: s.request,
      results,
      createdAt: new Date(s.created_at).toISOString(),
    };
  }
}
