import { performance } from 'node:perf_hooks';
import { LeanHttpClient, type LeanRequest } from './lean-http-client.js';
import { Samples } from './stats.js';

/**
 * The load generator: closed loops on a LeanHttpClient (one connection per concurrent caller,
 * keep-alive, no pipelining), timed with its callbacks so no stream or promise sits between the
 * socket and the clock. Time to first byte is the first body chunk (SSE event), not the headers,
 * which a proxy may flush before it has anything to say.
 */

/** A request serialised once: the same bytes every time. */
export type PreparedRequest = LeanRequest;

/** The connections to one origin that a scenario's callers share. */
export type LoadClient = LeanHttpClient;

/**
 * What makes an answer a success: whole JSON, an SSE stream ending in [DONE], such a stream checked
 * event by event, or an Anthropic stream ending in its message_stop event.
 */
export type Expectation = { kind: 'json' } | { kind: 'sse' } | { kind: 'sse-full'; contentChunks: number } | { kind: 'anthropic-sse' };

export interface Outcome {
  ok: boolean;
  status: number;
  /** Request start, headers, first body chunk, second body chunk and end, in ms since start. */
  headersMs: number;
  ttfbMs: number;
  secondChunkMs: number;
  totalMs: number;
  /** SSE events in the first body chunk (1 = the proxy passed the first event on by itself). */
  firstChunkEvents: number;
  error?: string;
}

const DONE = Buffer.from('data: [DONE]\n\n');
/** How Anthropic ends a stream (https://docs.anthropic.com/en/api/messages-streaming): an `error` event last is a failure. */
const MESSAGE_STOP = Buffer.from('event: message_stop\ndata: {"type":"message_stop"}\n\n');
const TAIL = Math.max(DONE.length, MESSAGE_STOP.length);

function endsWith(tail: Buffer, end: Buffer): boolean {
  return tail.length >= end.length && tail.subarray(tail.length - end.length).equals(end);
}

function countEvents(chunk: Buffer): number {
  let n = 0;
  let i = chunk.indexOf('\n\n');
  while (i !== -1) {
    n++;
    i = chunk.indexOf('\n\n', i + 2);
  }
  return n;
}

function countOf(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

export function makeClient(origin: string, connections: number): LoadClient {
  return new LeanHttpClient(origin, connections);
}

/** Sends one request and calls `done` once with its outcome (and `onHeaders` when the answer starts); never throws. */
export function send(pool: LoadClient, request: PreparedRequest, expect: Expectation, done: (o: Outcome) => void, onHeaders?: () => void): void {
  const start = performance.now();
  const o: Outcome = { ok: false, status: 0, headersMs: Number.NaN, ttfbMs: Number.NaN, secondChunkMs: Number.NaN, totalMs: Number.NaN, firstChunkEvents: 0 };
  let chunks = 0;
  let bytes = 0;
  let tail: Buffer = Buffer.alloc(0);
  const whole: Buffer[] | undefined = expect.kind === 'sse-full' ? [] : undefined;
  let finished = false;
  const finish = (error?: string): void => {
    if (finished) return;
    finished = true;
    o.totalMs = performance.now() - start;
    if (error !== undefined) o.error = error;
    else if (o.status !== 200) o.error = `HTTP ${o.status}`;
    else if (bytes === 0) o.error = 'empty body';
    else if (expect.kind === 'anthropic-sse') {
      if (!endsWith(tail, MESSAGE_STOP)) o.error = 'stream did not end with message_stop';
    } else if (expect.kind !== 'json' && !endsWith(tail, DONE)) o.error = 'stream did not end with [DONE]';
    else if (expect.kind === 'sse-full') {
      const text = Buffer.concat(whole!).toString('utf8');
      const content = countOf(text, '"delta":{"content":"');
      if (content !== expect.contentChunks) o.error = `stream had ${content} content chunks, not ${expect.contentChunks}`;
      else if (!text.includes('"usage":{"prompt_tokens"')) o.error = 'stream had no usage chunk';
    }
    o.ok = o.error === undefined;
    done(o);
  };
  pool.request(request, {
    onStart(statusCode) {
      o.status = statusCode;
      o.headersMs = performance.now() - start;
      onHeaders?.();
    },
    onData(chunk) {
      chunks++;
      if (chunks === 1) {
        o.ttfbMs = performance.now() - start;
        o.firstChunkEvents = countEvents(chunk);
      } else if (chunks === 2) o.secondChunkMs = performance.now() - start;
      bytes += chunk.length;
      whole?.push(chunk);
      tail = chunk.length >= TAIL ? chunk.subarray(chunk.length - TAIL) : Buffer.concat([tail, chunk]).subarray(-TAIL);
    },
    onEnd() {
      finish();
    },
    onError(err) {
      finish(err.message || String(err));
    },
  });
}

/** Sends one request and resolves with its outcome. */
export function sendOnce(pool: LoadClient, request: PreparedRequest, expect: Expectation): Promise<Outcome> {
  return new Promise((resolve) => send(pool, request, expect, resolve));
}

export interface LoopOptions {
  pool: LoadClient;
  request: PreparedRequest;
  expect: Expectation;
  concurrency: number;
  durationMs: number;
  /** Stop after this many requests even if time is left. */
  maxRequests?: number;
}

export interface LoopResult {
  sent: number;
  ok: number;
  failed: number;
  /** Failures by message. */
  errors: Record<string, number>;
  elapsedMs: number;
  /** Of successful requests only. */
  latency: Samples;
  ttfb: Samples;
}

/**
 * `concurrency` callers, each sending its next request when its last one is answered, until the
 * time (or the request budget) is used up; resolves when every caller has its last answer.
 */
export function closedLoop(options: LoopOptions): Promise<LoopResult> {
  const { pool, request, expect, concurrency, durationMs } = options;
  const maxRequests = options.maxRequests ?? Number.MAX_SAFE_INTEGER;
  const result: LoopResult = { sent: 0, ok: 0, failed: 0, errors: {}, elapsedMs: 0, latency: new Samples(), ttfb: new Samples() };
  const start = performance.now();
  const deadline = start + durationMs;
  return new Promise((resolve) => {
    let callers = concurrency;
    const onDone = (o: Outcome): void => {
      if (o.ok) {
        result.ok++;
        result.latency.push(o.totalMs);
        result.ttfb.push(o.ttfbMs);
      } else {
        result.failed++;
        const key = o.error ?? 'unknown';
        result.errors[key] = (result.errors[key] ?? 0) + 1;
      }
      if (performance.now() < deadline && result.sent < maxRequests) next();
      else if (--callers === 0) {
        result.elapsedMs = performance.now() - start;
        resolve(result);
      }
    };
    const next = (): void => {
      result.sent++;
      send(pool, request, expect, onDone);
    };
    for (let i = 0; i < concurrency; i++) next();
  });
}
