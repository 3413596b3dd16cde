import type { AppConfig } from '#libs/config';
import type { FastifyBodyParser, FastifyRequest } from 'fastify';
import { findJsonLimitViolation, type JsonLimits } from '#libs/json-limits';

export function jsonLimitsOf(config: Readonly<AppConfig>): JsonLimits {
  return { maxDepth: config.jsonMaxDepth, maxArrayItems: config.jsonMaxArrayItems, maxObjectKeys: config.jsonMaxObjectKeys };
}

/**
 * A JSON body beyond the configured shape bounds (JSON_MAX_*), refused before it is parsed.
 * Carries a status and code as Fastify's own errors do, so both the /admin exception filter and
 * the /v1 error handler answer it in their format.
 */
export class JsonLimitExceeded extends Error {
  override name = 'JsonLimitExceeded';
  readonly statusCode = 400;
  readonly code = 'json_limit_exceeded';
}

/** Throws JsonLimitExceeded when `bytes` exceeds a bound; cheap for a typical body (see #libs/json-limits). */
export function assertJsonWithinLimits(bytes: Buffer, limits: JsonLimits): void {
  const violation = findJsonLimitViolation(bytes, limits);
  if (violation) throw new JsonLimitExceeded(violation.message);
}

/** A Fastify content-type parser reading the body as a Buffer (parseAs: 'buffer'). */
export type JsonBodyParser = (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => void;

/**
 * A Fastify content-type parser for application/json that checks the shape bounds on the raw
 * bytes and then hands them to Fastify's own JSON parser (which refuses `__proto__` and
 * `constructor.prototype` keys, as the parser it replaces did).
 */
export function boundedJsonParser(fastifyJsonParser: FastifyBodyParser<string>, limits: JsonLimits): JsonBodyParser {
  // Fastify's default parser is typed for a string but parses a Buffer as well (secure-json-parse);
  // Nest's own JSON parser hands it the Buffer too.
  const defaultParser = fastifyJsonParser as unknown as JsonBodyParser;
  return (req, body, done) => {
    try {
      assertJsonWithinLimits(body, limits);
    } catch (err) {
      done(err as Error);
      return;
    }
    defaultParser(req, body, done);
  };
}
