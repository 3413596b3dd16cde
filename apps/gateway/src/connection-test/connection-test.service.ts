import { Injectable } from '@nestjs/common';
import { chatRequestFromOpenAI, type ChatResponse } from '#libs/adapter-sdk';
import { BusClient } from '#libs/bus';
import { AppError, type ConnectionTestResultView, type ResolvedConnection } from '#libs/contracts';
import { assertMayChange, mayRead } from '#libs/tenancy';
import { randomUUID } from 'node:crypto';
import { envelopeFor, scopeOf, type Principal } from '../auth/principal.js';
import { ReadModelService, type Route } from '../read-model/read-model.service.js';
import { NO_LIMITS } from '../read-model/route.js';
import { UpstreamCallService } from '../v1/upstream-call.service.js';

/** The one-line prompt a connection test sends, and the few tokens its answer may take. */
export const TEST_PROMPT = 'Reply with one short line: are you reachable?';
const TEST_MAX_TOKENS = 32;
/** lastError holds at most this much of the provider's message. */
const MAX_MESSAGE_LENGTH = 2000;

/** A format no adapter speaks: the test always goes through the adapter's canonical request builder. */
const TEST_CLIENT_FORMAT = 'connection-test';

export interface ConnectionTestCommand {
  principal: Principal;
  connectionId: string;
  /** The model id the provider knows. */
  upstreamModel: string;
}

type TestOutcome = { ok: true; text: string; latencyMs: number } | { ok: false; errorKind: string; message: string; latencyMs: number };

/** Measures elapsed time; injected so a test can fix it. */
@Injectable()
export class MonotonicClock {
  now(): number {
    return performance.now();
  }
}

/**
 * POST /admin/connections/{id}/test: a one-line prompt through the same upstream call as /v1 (the
 * SSRF guard, the connection's adapter and credentials, the error taxonomy, the redactor), then the
 * connection's status set through the vault (active or error, audited there). The connection comes
 * from this replica's read model, inactive ones included; one created a moment ago on another
 * replica is fetched by re-reading the read model once.
 */
@Injectable()
export class ConnectionTestService {
  constructor(
    private readonly readModel: ReadModelService,
    private readonly upstream: UpstreamCallService,
    private readonly bus: BusClient,
    private readonly clock: MonotonicClock,
  ) {}

  async test(cmd: ConnectionTestCommand): Promise<ConnectionTestResultView> {
    const connection = await this.connectionFor(cmd.principal, cmd.connectionId);
    const outcome = await this.call(connection, cmd.upstreamModel);
    const recorded = await this.bus.request(
      'vault.v1.connections.record-test',
      envelopeFor(cmd.principal, {
        id: connection.id,
        ok: outcome.ok,
        ...(outcome.ok ? {} : { errorKind: outcome.errorKind, message: outcome.message.slice(0, MAX_MESSAGE_LENGTH) }),
      }),
    );
    return { ...outcome, status: recorded.status };
  }

  /** The connection, if the caller may test it (a test changes its status: the caller must be allowed to change it). */
  private async connectionFor(principal: Principal, id: string): Promise<ResolvedConnection> {
    let connection = this.readModel.connection(id);
    if (!connection) {
      await this.readModel.refresh('connections');
      connection = this.readModel.connection(id);
    }
    const scope = scopeOf(principal);
    if (!connection || !mayRead(scope, connection)) throw AppError.notFound('connection', id);
    assertMayChange(scope, connection, `connection ${id}`);
    return connection;
  }

  private async call(connection: ResolvedConnection, upstreamModel: string): Promise<TestOutcome> {
    // A route of its own, like `slug/model` addressing: this one upstream model on this connection, nothing else.
    const route: Route = {
      name: upstreamModel,
      targets: [{ upstreamModel, weight: 1, connection, redactor: this.readModel.redactorOf(connection) }],
      fallbacks: [],
      failoverByDefault: false,
      upstreamStreams: true,
      multimodal: false,
      limits: NO_LIMITS,
      defaultParameters: {},
    };
    const body = { model: upstreamModel, messages: [{ role: 'user', content: TEST_PROMPT }], max_tokens: TEST_MAX_TOKENS, stream: false };
    const started = this.clock.now();
    const latency = () => Math.max(0, Math.round(this.clock.now() - started));
    const result = await this.upstream.call({
      operation: 'chat',
      clientFormat: TEST_CLIENT_FORMAT,
      route,
      body,
      canonical: () => chatRequestFromOpenAI(body),
      stream: false,
      clientHeaders: {},
      // The admin asks about the connection now: a call even when its circuit is open, and no retries.
      bypassPolicy: true,
      requestId: `conntest_${randomUUID()}`,
    });
    if (!result.ok) return { ok: false, errorKind: result.failure.kind, message: result.failure.message, latencyMs: latency() };
    const { answer } = result;
    if (answer.body.kind !== 'whole' || !answer.adapter.chat) {
      if (answer.body.kind === 'stream') answer.body.exchange.release();
      return { ok: false, errorKind: 'upstream_invalid_response', message: 'The upstream answered the test with a stream it was not asked for.', latencyMs: latency() };
    }
    const decoded = answer.adapter.chat.parseResponse(answer.body.bytes);
    const latencyMs = latency();
    if ('error' in decoded) return { ok: false, errorKind: decoded.error.kind, message: route.targets[0].redactor.redact(decoded.error.message), latencyMs };
    return { ok: true, text: answerText(decoded.value), latencyMs };
  }
}

function answerText(response: ChatResponse): string {
  const choice = response.choices[0];
  if (!choice) return '';
  return choice.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('');
}

