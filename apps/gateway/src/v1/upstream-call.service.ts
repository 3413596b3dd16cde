import { Injectable, Logger } from '@nestjs/common';
import {
  AdapterCallError,
  AdapterRegistry,
  type BuiltUpstreamRequest,
  type CallTarget,
  type CallWarning,
  type ClientRequestDecoded,
  InvalidClientRequest,
  type ProviderAdapterV2,
  type WireFormat,
} from '#libs/adapter-sdk';
import { ProcessEnvironment } from '#libs/config';
import { refusalIn, UpstreamAddressRefused } from '#libs/upstream-guard';
import type { IncomingHttpHeaders } from 'node:http';
import type { Route, RouteTarget } from '../read-model/read-model.service.js';
import { UpstreamAnswerTooLarge, UpstreamDeadlineExceeded, UpstreamExchange } from '../proxy/upstream-exchange.js';
import { UpstreamPools } from '../proxy/upstream-pools.js';
import { ConnectionPolicies, isRetryableOutcome, type ResolvedConnectionPolicy } from '../policy/connection-policies.js';
import { TargetCircuits } from '../policy/target-circuits.js';
import type { TargetCircuit } from '../policy/target-circuit.js';
import { targetOrder } from '../policy/target-order.js';
import { BrokenCircuitError } from 'cockatiel';
import { ConnectionCallCredentials } from '../proxy/connection-call-credentials.js';
import type { CallFailure } from './call-failure.js';

/** A whole (non-streamed) answer is held in memory to read its usage; larger ones are refused. */
const MAX_WHOLE_ANSWER_BYTES = 64 * 1024 * 1024;

const NO_SETTINGS: Readonly<Record<string, never>> = Object.freeze({});

/** The adapter operations an upstream call can be for. */
export type UpstreamOperation = 'chat' | 'completion' | 'embedding' | 'countTokens';

const OPERATION_LABEL: Record<UpstreamOperation, string> = { chat: 'chat', completion: 'completions', embedding: 'embeddings', countTokens: 'token counting' };

export interface UpstreamCallCommand {
  operation: UpstreamOperation;
  /** The format the client spoke: a target whose adapter speaks it gets the body as it came. */
  clientFormat: WireFormat;
  route: Route;
  /** The client's body, validated. */
  body: Record<string, unknown>;
  /** The canonical request, decoded on first need (only a target of another format needs it). */
  canonical: () => ClientRequestDecoded<unknown>;
  /**
   * The client asked for a stream: a 2xx event stream is handed back unread. When the route's
   * upstream does not stream, the upstream is asked for a whole answer, which comes back whole.
   */
  stream: boolean;
  clientHeaders: IncomingHttpHeaders;
  /**
   * Whether a retryable failure (or an open circuit) moves the call on to the route's other targets,
   * then to `fallbacks` (the model's failoverByDefault, or the request's x-gateway-failover).
   */
  failover?: boolean;
  /** The routes to fail over to after the model's own targets, in order (resolved only when reached). */
  fallbacks?: () => Iterable<Route>;
  /** An admin's connection test: one attempt on the one target, whatever its circuit says, no retries. */
  bypassPolicy?: boolean;
  /** Told of each attempt before it is sent (the span names the target). */
  onAttempt?: (target: RouteTarget, adapter: ProviderAdapterV2 | undefined) => void;
  /** For log lines, and {{request_id}} in header templates. */
  requestId: string;
  /** The caller, for {{user}} and {{email}} in header templates (the gateway key's name; the e-mail once SSO gives one). */
  caller?: { user: string; email?: string };
}

/** A successful (2xx) upstream answer, nothing of it written to the client yet. */
export interface UpstreamAnswer {
  /** The route that served it: the model asked for, or a fallback model. */
  route: Route;
  target: RouteTarget;
  /** Attempts sent upstream for this call (retries and failover included). */
  attempts: number;
  adapter: ProviderAdapterV2;
  /** The client's body went upstream as it came: the answer is in the client's format, bytes may pass. */
  passThrough: boolean;
  warnings: CallWarning[];
  status: number;
  headers: IncomingHttpHeaders;
  /** Whole, or an event stream paused in its socket until a reader takes it (`exchange.streamTo`); release() it when done. */
  body: { kind: 'whole'; bytes: Buffer } | { kind: 'stream'; exchange: UpstreamExchange };
}

export type UpstreamCallResult =
  | { ok: true; answer: UpstreamAnswer }
  | { ok: false; failure: CallFailure; warnings: CallWarning[]; route?: Route; target?: RouteTarget; headers?: IncomingHttpHeaders; attempts?: number };

/**
 * The one upstream call of /v1: resolves each target's adapter (contract v2), builds the request
 * (the client's bytes when the adapter speaks the client's format, else the canonical translation),
 * dispatches it through the target's pool, and maps every failure (the provider's error body through
 * adapter.mapError, a redirect, a refused address, no connection, a timeout) into one CallFailure.
 * It never writes to the client: whatever it answers, a caller may still try another target
 * (failover, issue 15) before anything is sent.
 */
@Injectable()
export class UpstreamCallService {
  private readonly logger = new Logger('UpstreamCall');

  constructor(
    private readonly pools: UpstreamPools,
    private readonly adapters: AdapterRegistry,
    private readonly policies: ConnectionPolicies,
    private readonly circuits: TargetCircuits,
    private readonly environment: ProcessEnvironment,
  ) {}

  /** The adapter a connection names, when this gateway has it loaded. */
  adapterOf(target: RouteTarget): ProviderAdapterV2 | undefined {
    return this.adapters.getV2(target.connection.adapter);
  }

  /**
   * The call under the gateway policy (issue 15): the route's targets in weighted order, skipping
   * open circuits; each target's retryable failures retried on it (its connection's maxRetries,
   * exponential backoff with jitter, never sooner than retry-after); then, with failover, the next
   * target and the fallback models' targets. Nothing has reached the client while this runs, so a
   * retry never follows a first byte sent.
   */
  async call(cmd: UpstreamCallCommand): Promise<UpstreamCallResult> {
    const state: CallState = { attempts: 0, last: undefined, openCircuitRetryAfterMs: undefined };
    const first = await this.callRoute(cmd, cmd.route, state);
    if (first) return first;
    if (cmd.failover && cmd.fallbacks) {
      for (const route of cmd.fallbacks()) {
        const answered = await this.callRoute(cmd, route, state);
        if (answered) return answered;
      }
    }
    if (state.last) return state.last;
    // Every target's circuit was open: nothing was sent.
    return {
      ok: false,
      failure: {
        kind: 'circuit_open',
        message: `Every target of the model ${cmd.route.name} failed repeatedly and is paused (circuit open); try again later.`,
        retryable: true,
        ...(state.openCircuitRetryAfterMs !== undefined ? { retryAfterMs: state.openCircuitRetryAfterMs } : {}),
      },
      warnings: [],
      route: cmd.route,
      attempts: 0,
    };
  }

  /** One route's targets; answers the call's result, or undefined to go on to the next route. */
  private async callRoute(cmd: UpstreamCallCommand, route: Route, state: CallState): Promise<UpstreamCallResult | undefined> {
    const targets = route.targets.length === 1 ? route.targets : targetOrder(route.targets, this.targetAvailable);
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!;
      const policy = this.policies.of(target.connection);
      if (cmd.bypassPolicy) {
        const result = await this.attempt(cmd, route, target, policy);
        if (result.ok) result.answer.attempts = 1;
        else result.attempts = 1;
        return result;
      }
      const circuit = this.circuits.of(target, policy);
      if (circuit && !circuit.available) {
        const wait = circuit.retryAfterMs;
        state.openCircuitRetryAfterMs = state.openCircuitRetryAfterMs === undefined ? wait : Math.min(state.openCircuitRetryAfterMs, wait);
        continue;
      }
      let result: UpstreamCallResult;
      try {
        if (circuit && !circuit.closed) result = await this.guardedAttempt(cmd, route, target, policy, circuit, state);
        else {
          // guardedAttempt's closed-circuit path inline (every call of a healthy target): two async frames less per call.
          state.attempts++;
          result = await this.attempt(cmd, route, target, policy);
          if (!result.ok) state.last = result;
          if (circuit) {
            const done = circuit.closedAttemptDone(result);
            result = done instanceof Promise ? await done : done;
          }
        }
        // Retries go through cockatiel's retry policy (backoff with jitter, retry-after) only when
        // the first attempt failed retryably: it takes that answer as its attempt 0, so a call that
        // succeeds at once pays nothing for its connection's maxRetries.
        if (policy.retry && !result.ok && isRetryableOutcome(result)) {
          const first = result;
          result = await policy.retry.execute(({ attempt }) => (attempt === 0 ? first : this.guardedAttempt(cmd, route, target, policy, circuit, state)));
        }
      } catch (err) {
        if (!(err instanceof BrokenCircuitError)) throw err;
        // The circuit opened during this target's retries: the next target, if failover allows.
        if (circuit) state.openCircuitRetryAfterMs = Math.min(state.openCircuitRetryAfterMs ?? Infinity, circuit.retryAfterMs);
        if (!cmd.failover) return state.last;
        continue;
      }
      if (result.ok) {
        result.answer.attempts = state.attempts;
        return result;
      }
      result.attempts = state.attempts;
      if (!cmd.failover || !isRetryableOutcome(result)) return result;
      this.logger.debug(`[${cmd.requestId}] failing over from ${route.name} on connection ${target.connection.id}: ${result.failure.kind}`);
    }
    return cmd.failover ? undefined : state.last;
  }

  /**
   * One counted attempt on a target through its circuit. A closed circuit (every call of a healthy
   * target) is told the result afterwards, with no closure or promise of its own; otherwise the
   * attempt runs inside the breaker (the half-open probe), or is refused (BrokenCircuitError).
   */
  private async guardedAttempt(
    cmd: UpstreamCallCommand,
    route: Route,
    target: RouteTarget,
    policy: ResolvedConnectionPolicy,
    circuit: TargetCircuit | undefined,
    state: CallState,
  ): Promise<UpstreamCallResult> {
    if (circuit && !circuit.closed) return circuit.execute(() => this.countedAttempt(cmd, route, target, policy, state));
    const result = await this.countedAttempt(cmd, route, target, policy, state);
    return circuit ? circuit.closedAttemptDone(result) : result;
  }

  private async countedAttempt(cmd: UpstreamCallCommand, route: Route, target: RouteTarget, policy: ResolvedConnectionPolicy, state: CallState): Promise<UpstreamCallResult> {
    state.attempts++;
    const result = await this.attempt(cmd, route, target, policy);
    if (!result.ok) state.last = result;
    return result;
  }

  /**
   * What the adapter is told of the target. With fixed credentials every field is the same object on
   * every call of a target, so one frozen CallTarget serves them all (checked field by field: a
   * changed connection builds a new one); rendered or environment credentials get one per call.
   */
  private callTargetOf(target: RouteTarget, credentials: { secrets: Readonly<Record<string, string>>; headers: Readonly<Record<string, string>> }): CallTarget {
    const connection = target.connection;
    const settings = connection.settings ?? NO_SETTINGS; // one object: adapters may key what they build per connection on it
    const cached = this.callTargets.get(target);
    if (
      cached !== undefined &&
      cached.secrets === credentials.secrets &&
      cached.headers === credentials.headers &&
      cached.settings === settings &&
      cached.upstreamModel === target.upstreamModel &&
      cached.baseUrl === (connection.baseUrl || undefined)
    ) {
      return cached;
    }
    const callTarget: CallTarget = Object.freeze({
      ...(connection.baseUrl ? { baseUrl: connection.baseUrl } : {}),
      upstreamModel: target.upstreamModel,
      settings,
      secrets: credentials.secrets,
      headers: credentials.headers,
      fetch: this.pools.fetch,
    });
    this.callTargets.set(target, callTarget);
    return callTarget;
  }

  private readonly callTargets = new WeakMap<RouteTarget, CallTarget>();

  /** The balancer's view of a target (made once: no closure per call). */
  private readonly targetAvailable = (target: RouteTarget): boolean => this.circuits.of(target, this.policies.of(target.connection))?.available ?? true;

  private async attempt(cmd: UpstreamCallCommand, route: Route, target: RouteTarget, policy: ResolvedConnectionPolicy): Promise<UpstreamCallResult> {
    const adapter = this.adapterOf(target);
    cmd.onAttempt?.(target, adapter);
    if (!adapter) {
      return failedAttempt(route, target, {
        kind: 'adapter_unavailable',
        message: `The connection ${target.connection.name} uses the adapter ${target.connection.adapter}, which this gateway has not loaded.`,
        retryable: false,
      });
    }
    const op = cmd.operation === 'countTokens' ? adapter.countTokens : adapter[cmd.operation];
    if (!op) {
      return failedAttempt(route, target, {
        kind: 'unsupported_operation',
        message: `The model ${route.name} is served through the adapter ${adapter.id}, which has no ${OPERATION_LABEL[cmd.operation]} endpoint.`,
        param: 'model',
        retryable: false,
      });
    }
    // Secrets from the environment and rendered header templates (issue 16); the stored ones as they are otherwise.
    const compiled = ConnectionCallCredentials.of(target.connection);
    const credentials =
      compiled.fixed ??
      compiled.forCall(this.environment, {
        user: cmd.caller?.user ?? '',
        email: cmd.caller?.email ?? '',
        model: cmd.route.name,
        requestId: cmd.requestId,
      });
    if (!credentials.ok) return failedAttempt(route, target, { kind: 'connection_misconfigured', message: credentials.message, retryable: false });
    const callTarget = this.callTargetOf(target, credentials);
    const passThrough = adapter.nativeFormat === cmd.clientFormat && op.buildNativeRequest !== undefined;
    // A model whose upstream does not stream is asked for a whole answer; the gateway streams it to the client.
    const upstreamStream = cmd.stream && cmd.route.upstreamStreams;
    let built: BuiltUpstreamRequest;
    let warnings: CallWarning[] = [];
    try {
      if (passThrough) {
        built = await op.buildNativeRequest!(cmd.stream && !upstreamStream ? withoutStream(cmd.body) : cmd.body, callTarget, { clientHeaders: cmd.clientHeaders });
      } else {
        if (!('buildRequest' in op)) {
          return failedAttempt(route, target, { kind: 'unsupported_operation', message: `The adapter ${adapter.id} counts tokens only for requests in its own format.`, retryable: false });
        }
        const decoded = cmd.canonical();
        if ('invalid' in decoded) return failedAttempt(route, target, { kind: 'invalid_request', message: decoded.invalid.message, param: decoded.invalid.param, retryable: false });
        const canonical = cmd.stream && !upstreamStream ? { ...(decoded.value as object), stream: false } : decoded.value;
        built = await (op.buildRequest as (r: unknown, t: CallTarget) => Promise<BuiltUpstreamRequest>)(canonical, callTarget);
        warnings = [...decoded.warnings, ...built.warnings];
      }
    } catch (err) {
      // The adapter found the request is one its provider cannot take (Titan embeds one text per call): the client's to fix.
      if (err instanceof InvalidClientRequest) return failedAttempt(route, target, { kind: 'invalid_request', message: err.message, param: err.param, retryable: false }, warnings);
      // The adapter's own request (an OAuth token endpoint) went to an address the guard refuses.
      const refused = refusalIn(err);
      if (refused) {
        this.logger.warn(`[${cmd.requestId}] a request of the adapter for connection ${target.connection.id} refused: ${refused.message}`);
        return failedAttempt(route, target, { kind: 'upstream_address_refused', message: `The connection ${target.connection.name} could not be used: ${refused.publicMessage}`, retryable: false }, warnings);
      }
      const message = target.redactor.redact(err instanceof Error ? err.message : String(err));
      this.logger.warn(`[${cmd.requestId}] the request for connection ${target.connection.id} could not be built: ${message}`);
      // An adapter that names why (a refused OAuth grant: auth) is answered with that kind.
      if (err instanceof AdapterCallError) return failedAttempt(route, target, { kind: err.error.kind, message: `The connection ${target.connection.name} could not be used: ${message}`, retryable: err.error.retryable });
      return failedAttempt(route, target, { kind: 'upstream_error', message: `The request for the connection ${target.connection.name} could not be built: ${message}`, retryable: false });
    }
    if (passThrough) warnings = built.warnings;

    const exchange = new UpstreamExchange(MAX_WHOLE_ANSWER_BYTES, upstreamStream ? isEventStream : undefined);
    try {
      const { pool, path } = this.pools.forUrl(built.request.url, policy.connectTimeoutMs);
      exchange.setDeadline(policy.totalTimeoutMs);
      pool.dispatch({ path, method: built.request.method, headers: built.request.headers, body: built.request.body, headersTimeout: policy.firstByteTimeoutMs }, exchange);
      // The head of a stream or a redirect; a whole answer's end (one wait instead of head() then whole()).
      await exchange.ready();
    } catch (err) {
      exchange.release();
      return failedAttempt(route, target, this.transportFailure(err, target, cmd.requestId), warnings);
    }
    const status = exchange.statusCode;
    if (status >= 300 && status < 400) {
      // Never followed (its target was never checked against UPSTREAM_ALLOWLIST) nor relayed (a
      // client's own HTTP stack would follow it, or learn an internal address).
      exchange.release();
      this.logger.warn(`[${cmd.requestId}] upstream answered ${status} with Location ${JSON.stringify(target.redactor.redact(String(exchange.headers.location ?? '')))}; not followed`);
      return failedAttempt(
        route,
        target,
        { kind: 'upstream_redirect', message: `The upstream provider answered with a redirect (${status}), which the gateway does not follow.`, retryable: false, upstreamStatus: status },
        warnings,
      );
    }
    if (exchange.isStreamed) return { ok: true, answer: { route, target, attempts: 0, adapter, passThrough, warnings, status, headers: exchange.headers, body: { kind: 'stream', exchange } } };
    const bytes = exchange.body;
    if (status >= 400) {
      const mapped = adapter.mapError(status, bytes, exchange.headers);
      const message = target.redactor.redact(mapped.message);
      this.logger.debug(`[${cmd.requestId}] upstream answered HTTP ${status} (${mapped.kind}): ${message}`);
      return failedAttempt(
        route,
        target,
        {
          kind: mapped.kind,
          message,
          retryable: mapped.retryable,
          upstreamStatus: status,
          ...(mapped.retryAfterMs !== undefined ? { retryAfterMs: mapped.retryAfterMs } : {}),
        },
        warnings,
        exchange.headers,
      );
    }
    return { ok: true, answer: { route, target, attempts: 0, adapter, passThrough, warnings, status, headers: exchange.headers, body: { kind: 'whole', bytes } } };
  }

  /** A call that got no (complete) answer: why, in the taxonomy; the details (without secrets) go to the log. */
  transportFailure(err: unknown, target: RouteTarget, requestId: string): CallFailure {
    if (err instanceof UpstreamAddressRefused) {
      this.logger.warn(`[${requestId}] upstream call refused: connection ${target.connection.id}: ${err.message}`);
      return { kind: 'upstream_address_refused', message: `The upstream of connection ${target.connection.name} was not called: ${err.publicMessage}`, retryable: false };
    }
    const detail = target.redactor.redact(err instanceof Error ? err.message : String(err));
    this.logger.warn(`[${requestId}] upstream call for connection ${target.connection.id} failed: ${detail}`);
    if (err instanceof UpstreamAnswerTooLarge) return { kind: 'upstream_invalid_response', message: 'The upstream answer is too large.', retryable: false };
    const code = (err as { code?: unknown })?.code;
    if (err instanceof UpstreamDeadlineExceeded || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return { kind: 'upstream_timeout', message: 'The upstream provider did not answer in time.', retryable: true };
    }
    return { kind: 'upstream_unreachable', message: 'The upstream provider could not be reached.', retryable: true };
  }
}

/** A failed attempt's result (a function, not a closure made by every attempt). */
function failedAttempt(route: Route, target: RouteTarget, failure: CallFailure, warnings: CallWarning[] = [], headers?: IncomingHttpHeaders): UpstreamCallResult {
  return { ok: false, failure, warnings, route, target, headers };
}

/** What one call has seen so far across its targets and routes. */
interface CallState {
  attempts: number;
  last: UpstreamCallResult | undefined;
  /** The soonest an open circuit skipped by this call lets a probe through. */
  openCircuitRetryAfterMs: number | undefined;
}

/** A stream request's body asking for a whole answer instead (stream_options is refused without a stream). */
function withoutStream(body: Record<string, unknown>): Record<string, unknown> {
  const { stream_options: _streamOptions, ...rest } = body;
  return { ...rest, stream: false };
}

/**
 * The media types of a streamed answer: server-sent events, and AWS's binary event-stream (Bedrock's
 * ConverseStream). The framing itself is the adapter's stream decoder's; an upstream may also answer
 * a stream request with whole JSON (an error, or a model that does not stream), which is read whole.
 */
const STREAM_MEDIA_TYPES = ['text/event-stream', 'application/vnd.amazon.eventstream'];

/** A successful answer as a stream. */
function isEventStream(status: number, headers: IncomingHttpHeaders): boolean {
  if (status < 200 || status >= 300) return false;
  const type = String(headers['content-type'] ?? '').toLowerCase();
  return STREAM_MEDIA_TYPES.some((t) => type.includes(t));
}

/** The provider's request id: OpenAI's x-request-id, Anthropic's request-id, AWS's x-amzn-requestid. */
export function upstreamRequestId(headers: IncomingHttpHeaders | undefined): string | undefined {
  const v = headers?.['x-request-id'] ?? headers?.['request-id'] ?? headers?.['x-amzn-requestid'];
  return Array.isArray(v) ? v[0] : v;
}
