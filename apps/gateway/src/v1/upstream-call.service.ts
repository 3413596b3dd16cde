import { Injectable, Logger } from '@nestjs/common';
import {
  AdapterRegistry,
  type BuiltUpstreamRequest,
  type CallTarget,
  type CallWarning,
  type ClientRequestDecoded,
  type ProviderAdapterV2,
  type WireFormat,
} from '#libs/adapter-sdk';
import { ProcessEnvironment } from '#libs/config';
import { UpstreamAddressRefused } from '#libs/upstream-guard';
import type { IncomingHttpHeaders } from 'node:http';
import type { Route, RouteTarget } from '../read-model/read-model.service.js';
import { UpstreamAnswerTooLarge, UpstreamExchange } from '../proxy/upstream-exchange.js';
import { UpstreamPools } from '../proxy/upstream-pools.js';
import { ConnectionCallCredentials } from '../proxy/connection-call-credentials.js';
import type { CallFailure } from './call-failure.js';

/** A whole (non-streamed) answer is held in memory to read its usage; larger ones are refused. */
const MAX_WHOLE_ANSWER_BYTES = 64 * 1024 * 1024;

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
  /** The client asked for a stream: a 2xx event stream is handed back unread. */
  stream: boolean;
  clientHeaders: IncomingHttpHeaders;
  /** Told of each attempt before it is sent (the span names the target). */
  onAttempt?: (target: RouteTarget, adapter: ProviderAdapterV2 | undefined) => void;
  /** For log lines, and {{request_id}} in header templates. */
  requestId: string;
  /** The caller, for {{user}} and {{email}} in header templates (the gateway key's name; the e-mail once SSO gives one). */
  caller?: { user: string; email?: string };
}

/** A successful (2xx) upstream answer, nothing of it written to the client yet. */
export interface UpstreamAnswer {
  target: RouteTarget;
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
  | { ok: false; failure: CallFailure; warnings: CallWarning[]; target?: RouteTarget; headers?: IncomingHttpHeaders };

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
    private readonly environment: ProcessEnvironment,
  ) {}

  /** The adapter a connection names, when this gateway has it loaded. */
  adapterOf(target: RouteTarget): ProviderAdapterV2 | undefined {
    return this.adapters.getV2(target.connection.adapter);
  }

  async call(cmd: UpstreamCallCommand): Promise<UpstreamCallResult> {
    let result: UpstreamCallResult | undefined;
    for (const target of cmd.route.targets) {
      result = await this.attempt(cmd, target);
      // Issue 15 decides here whether a failed attempt moves on to the next target (retryable
      // failures, open circuits); until then the first target's answer is the call's.
      if (result.ok || !this.triesNextTarget(result.failure)) break;
    }
    return result!;
  }

  private triesNextTarget(_failure: CallFailure): boolean {
    return false;
  }

  private async attempt(cmd: UpstreamCallCommand, target: RouteTarget): Promise<UpstreamCallResult> {
    const adapter = this.adapterOf(target);
    cmd.onAttempt?.(target, adapter);
    const fail = (failure: CallFailure, warnings: CallWarning[] = [], headers?: IncomingHttpHeaders): UpstreamCallResult => ({ ok: false, failure, warnings, target, headers });
    if (!adapter) {
      return fail({
        kind: 'adapter_unavailable',
        message: `The connection ${target.connection.name} uses the adapter ${target.connection.adapter}, which this gateway has not loaded.`,
        retryable: false,
      });
    }
    const op = cmd.operation === 'countTokens' ? adapter.countTokens : adapter[cmd.operation];
    if (!op) {
      return fail({
        kind: 'unsupported_operation',
        message: `The model ${cmd.route.name} is served through the adapter ${adapter.id}, which has no ${OPERATION_LABEL[cmd.operation]} endpoint.`,
        param: 'model',
        retryable: false,
      });
    }
    // Secrets from the environment and rendered header templates (issue 16); the stored ones as they are otherwise.
    const credentials = ConnectionCallCredentials.of(target.connection).forCall(this.environment, {
      user: cmd.caller?.user ?? '',
      email: cmd.caller?.email ?? '',
      model: cmd.route.name,
      requestId: cmd.requestId,
    });
    if (!credentials.ok) return fail({ kind: 'connection_misconfigured', message: credentials.message, retryable: false });
    const callTarget: CallTarget = {
      ...(target.connection.baseUrl ? { baseUrl: target.connection.baseUrl } : {}),
      upstreamModel: target.upstreamModel,
      settings: target.connection.settings ?? {},
      secrets: credentials.secrets,
      headers: credentials.headers,
    };
    const passThrough = adapter.nativeFormat === cmd.clientFormat && op.buildNativeRequest !== undefined;
    let built: BuiltUpstreamRequest;
    let warnings: CallWarning[] = [];
    try {
      if (passThrough) {
        built = await op.buildNativeRequest!(cmd.body, callTarget, { clientHeaders: cmd.clientHeaders });
      } else {
        if (!('buildRequest' in op)) {
          return fail({ kind: 'unsupported_operation', message: `The adapter ${adapter.id} counts tokens only for requests in its own format.`, retryable: false });
        }
        const decoded = cmd.canonical();
        if ('invalid' in decoded) return fail({ kind: 'invalid_request', message: decoded.invalid.message, param: decoded.invalid.param, retryable: false });
        built = await (op.buildRequest as (r: unknown, t: CallTarget) => Promise<BuiltUpstreamRequest>)(decoded.value, callTarget);
        warnings = [...decoded.warnings, ...built.warnings];
      }
    } catch (err) {
      const message = target.redactor.redact(err instanceof Error ? err.message : String(err));
      this.logger.warn(`[${cmd.requestId}] the request for connection ${target.connection.id} could not be built: ${message}`);
      return fail({ kind: 'upstream_error', message: `The request for the connection ${target.connection.name} could not be built: ${message}`, retryable: false });
    }
    if (passThrough) warnings = built.warnings;

    const exchange = new UpstreamExchange(MAX_WHOLE_ANSWER_BYTES, cmd.stream ? isEventStream : undefined);
    try {
      const { pool, path } = this.pools.forUrl(built.request.url);
      pool.dispatch({ path, method: built.request.method, headers: built.request.headers, body: built.request.body }, exchange);
      await exchange.head();
    } catch (err) {
      exchange.release();
      return fail(this.transportFailure(err, target, cmd.requestId), warnings);
    }
    const status = exchange.statusCode;
    if (status >= 300 && status < 400) {
      // Never followed (its target was never checked against UPSTREAM_ALLOWLIST) nor relayed (a
      // client's own HTTP stack would follow it, or learn an internal address).
      exchange.release();
      this.logger.warn(`[${cmd.requestId}] upstream answered ${status} with Location ${JSON.stringify(target.redactor.redact(String(exchange.headers.location ?? '')))}; not followed`);
      return fail(
        { kind: 'upstream_redirect', message: `The upstream provider answered with a redirect (${status}), which the gateway does not follow.`, retryable: false, upstreamStatus: status },
        warnings,
      );
    }
    if (exchange.isStreamed) return { ok: true, answer: { target, adapter, passThrough, warnings, status, headers: exchange.headers, body: { kind: 'stream', exchange } } };
    let bytes: Buffer;
    try {
      bytes = await exchange.whole();
    } catch (err) {
      return fail(this.transportFailure(err, target, cmd.requestId), warnings);
    }
    if (status >= 400) {
      const mapped = adapter.mapError(status, bytes, exchange.headers);
      const message = target.redactor.redact(mapped.message);
      this.logger.debug(`[${cmd.requestId}] upstream answered HTTP ${status} (${mapped.kind}): ${message}`);
      return fail(
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
    return { ok: true, answer: { target, adapter, passThrough, warnings, status, headers: exchange.headers, body: { kind: 'whole', bytes } } };
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
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return { kind: 'upstream_timeout', message: 'The upstream provider did not answer in time.', retryable: true };
    }
    return { kind: 'upstream_unreachable', message: 'The upstream provider could not be reached.', retryable: true };
  }
}

/** A successful answer in server-sent events (an upstream may answer a stream request with JSON). */
function isEventStream(status: number, headers: IncomingHttpHeaders): boolean {
  return status >= 200 && status < 300 && String(headers['content-type'] ?? '').includes('text/event-stream');
}

/** The provider's request id: OpenAI's x-request-id, Anthropic's request-id. */
export function upstreamRequestId(headers: IncomingHttpHeaders | undefined): string | undefined {
  const v = headers?.['x-request-id'] ?? headers?.['request-id'];
  return Array.isArray(v) ? v[0] : v;
}
