import type { ModelParameters, ProviderModelKind, ProviderModelView, ResolvedConnection } from '#libs/contracts';
import type { SecretRedactor } from '#libs/secret-redaction';

/** One place a model is served: an upstream model on a connection. */
export interface RouteTarget {
  /** The model id sent upstream. */
  upstreamModel: string;
  /** Share of the traffic among the route's targets (load balancing, issue 15). */
  weight: number;
  connection: ResolvedConnection;
  /** Removes the connection's secrets from what its upstream answers, before it is relayed, logged or traced. */
  redactor: SecretRedactor;
}

/** A provider model's limits (null = none). The per-minute ones are the gateway policy's (issue 15). */
export interface RouteLimits {
  contextWindow: number | null;
  maxInputTokens: number | null;
  maxOutputTokens: number | null;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
}

/**
 * A client model name resolved to where it is served: the provider model's targets in order, and
 * what the call must honour (limits, default parameters, parameters the name itself set).
 * Built once per provider model (or per addressed name) and kept until the read model changes.
 */
export interface Route {
  /** The gateway model name the call is recorded under: the provider model's name, or `slug/model`. */
  name: string;
  /** The provider model; undefined when the name addressed a connection directly (`slug/model`). */
  model?: ProviderModelView;
  /** The endpoints that may call it; undefined = any (slug addressing is not validated). */
  kind?: ProviderModelKind;
  targets: readonly [RouteTarget, ...RouteTarget[]];
  /** Provider model names to fail over to, in order (issue 15 walks them). */
  fallbacks: readonly string[];
  failoverByDefault: boolean;
  /** False = ask the upstream for whole answers and stream them to clients from the gateway. */
  upstreamStreams: boolean;
  multimodal: boolean;
  limits: RouteLimits;
  /** Fill what a request leaves out. */
  defaultParameters: Readonly<ModelParameters>;
  /** Set by the model name (`name:temperature=0.2`): they override the request's own values. */
  uriParameters?: Readonly<ModelParameters>;
}

/** Why a model name addresses nothing callable, in the words a /v1 error carries. */
export interface AddressingError {
  status: 400 | 404;
  code: 'model_not_found' | 'invalid_model_parameter';
  message: string;
  param: 'model';
}

export type ModelResolution = { ok: true; route: Route } | { ok: false; error: AddressingError };

export const NO_LIMITS: RouteLimits = Object.freeze({ contextWindow: null, maxInputTokens: null, maxOutputTokens: null, requestsPerMinute: null, tokensPerMinute: null });

export function modelNotFound(name: string, detail = ''): AddressingError {
  return {
    status: 404,
    code: 'model_not_found',
    message: `The model \`${name}\` does not exist or you do not have access to it${detail}. GET /v1/models lists the models this key may call.`,
    param: 'model',
  };
}

/**
 * A connection's lower-case slug for `slug/model` addressing: the connection's own `slug` when the
 * vault gives one, else derived from its name (lower-case, runs of other characters as one `-`).
 */
export function connectionSlug(connection: ResolvedConnection & { slug?: string }): string {
  if (typeof connection.slug === 'string' && connection.slug !== '') return connection.slug;
  return connection.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
