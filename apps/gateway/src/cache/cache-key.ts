import { createHash } from 'node:crypto';
import type { Route } from '../read-model/read-model.service.js';

/**
 * Body fields that never change the answer: the end user the call is made for (OpenAI's `user`,
 * Anthropic's `metadata`) and the store/metadata flags OpenAI keeps for its dashboard. Two calls that
 * differ only in these share one cached answer. `stream_options.include_usage` is kept on purpose:
 * it decides whether the replayed stream carries the usage chunk.
 */
const IGNORED_FIELDS: ReadonlySet<string> = new Set(['user', 'metadata', 'store']);

/** What identifies one cached answer: never shared across organisations, models or formats. */
export interface CacheKeyInput {
  organisationId: string;
  /** The resolved route (routeIdentity): two projects' models of one name are two routes. */
  route: string;
  /** The client format the answer is written in ('openai' | 'anthropic'). */
  clientFormat: string;
  /** The endpoint's operation (chat, completion, embedding): one format has several endpoints. */
  endpoint: string;
  body: Record<string, unknown>;
}

/**
 * The cache key: sha256 of the organisation, route, client format, endpoint and the body in a
 * canonical serialisation (object keys sorted at every depth, the ignored fields left out at the top),
 * each part length-prefixed so no two inputs can run together.
 */
export function cacheKey(input: CacheKeyInput): string {
  const hash = createHash('sha256');
  for (const part of [input.organisationId, input.route, input.clientFormat, input.endpoint]) {
    hash.update(`${part.length}:${part}\u0000`);
  }
  hash.update(canonicalJson(input.body, true));
  return hash.digest('hex');
}

/**
 * What names a route in the key: its provider model's id beside its name (two projects may each have
 * a model of one name, with other targets), or, for `slug/model` addressing, the connection's id.
 */
export function routeIdentity(route: Route): string {
  return `${route.name}\u0000${route.model?.id ?? route.targets[0].connection.id}`;
}

/** JSON with object keys sorted (so key order does not matter); `undefined` members are left out as JSON.stringify does. */
export function canonicalJson(value: unknown, top = false): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = record[k];
    if (v === undefined || (top && IGNORED_FIELDS.has(k))) continue;
    if (k === 'stream_options' && top) {
      // Only include_usage shapes the answer (whether the stream carries a usage chunk).
      const includeUsage = (v as { include_usage?: unknown } | null)?.include_usage === true;
      if (!includeUsage) continue;
      out += `${first ? '' : ','}"stream_options":{"include_usage":true}`;
      first = false;
      continue;
    }
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}
