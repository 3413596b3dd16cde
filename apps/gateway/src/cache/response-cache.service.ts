import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { V1Request } from '../v1/v1-request.js';
import { cacheKey, type CacheKeyInput } from './cache-key.js';
import { CACHE_HEADER, cacheOptionsOf, type CacheOptions } from './cache-options.js';
import { ResponseCache, type CachedAnswer, type CachedCallFacts } from './response-cache.js';
import { ResponseRecorder } from './response-recorder.js';

/** A call the cache did not answer, and that may be kept once it has answered completely. */
export interface CacheMiss {
  key: string;
  ttlMs: number;
  stream: boolean;
  recorder: ResponseRecorder;
}

export type CacheLookup = { kind: 'hit'; answer: CachedAnswer } | { kind: 'miss'; miss: CacheMiss };

/**
 * The response cache (issue 15.6): an exact-match cache of whole answers and streams, keyed by
 * organisation, model, client format, endpoint and the canonical request (cacheKey), opt-in per key
 * or per request (cacheOptionsOf), in memory on each replica (ResponseCache).
 */
@Injectable()
export class ResponseCacheService {
  readonly cache: ResponseCache;
  private readonly defaultTtlSeconds: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.cache = new ResponseCache(config.responseCacheMaxBytes);
    this.defaultTtlSeconds = config.responseCacheDefaultTtlSeconds;
  }

  /** Whether the call uses the cache (its headers over its key's setting); an error names a bad header. */
  options(call: V1Request): CacheOptions {
    const options = cacheOptionsOf(call.req.headers, call.principal, this.defaultTtlSeconds);
    return options.on && this.cache.maxBytes === 0 ? { on: false } : options;
  }

  /**
   * One lookup before the upstream call. A hit is the stored answer; a miss starts recording what the
   * call writes to its client (and says so in x-gateway-cache). Undefined: this call is not cached
   * (n > 1 asked only by the key's default, not by the request).
   */
  lookup(res: ServerResponse, options: Extract<CacheOptions, { on: true }>, input: CacheKeyInput & { stream: boolean }): CacheLookup | undefined {
    const n = input.body.n;
    if (typeof n === 'number' && n > 1 && !options.explicit) return undefined;
    const key = cacheKey(input);
    const answer = this.cache.get(key);
    if (answer && answer.stream === input.stream) return { kind: 'hit', answer };
    res.setHeader(CACHE_HEADER, 'miss');
    return { kind: 'miss', miss: { key, ttlMs: options.ttlMs, stream: input.stream, recorder: new ResponseRecorder(res, this.cache.maxEntryBytes) } };
  }

  /** One store after the call: only a complete, successful answer (status 200, not cut short, not failed) is kept. */
  store(res: ServerResponse, miss: CacheMiss, succeeded: boolean, facts: CachedCallFacts): boolean {
    if (!succeeded || res.statusCode !== 200) return false;
    const body = miss.recorder.body();
    if (!body) return false;
    const contentType = res.getHeader('content-type') ?? miss.recorder.contentType;
    return this.cache.set(miss.key, { status: 200, contentType: typeof contentType === 'string' ? contentType : miss.stream ? 'text/event-stream; charset=utf-8' : 'application/json', body, stream: miss.stream, facts }, miss.ttlMs);
  }

  /** Writes a hit: the stored bytes as they were first written (a stream with the same SSE framing), with this call's headers. */
  replay(res: ServerResponse, answer: CachedAnswer, headers: OutgoingHttpHeaders): void {
    if (res.headersSent || res.destroyed) return;
    headers[CACHE_HEADER] = 'hit';
    headers['content-type'] = answer.contentType;
    headers['content-length'] = String(answer.body.length);
    if (answer.stream) headers['cache-control'] = 'no-cache';
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  }
}

