import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chatCompletion, chatCompletionChunks, errorBody } from '../support/fake-upstream/openai-wire.js';
import { stopWhenToldOrOrphaned } from './child-lifetime.js';

/**
 * The benchmark's upstream: OpenAI's chat completions wire format (the same bodies the tests' fake
 * upstream builds, from openai-wire.ts), served from responses serialised once, whole HTTP
 * messages included, on a bare TCP server. On 2 CPUs the upstream shares its CPU with the load
 * generator and the product's other services; node:http cost it ~32 us per request, which left that
 * CPU saturated in the gateway's rounds (metering, Postgres and NATS run there too) so the gateway
 * waited on its callers rather than working. This one costs a few us per request.
 *
 * It speaks the HTTP/1.1 its callers here send (the load generator, the floor proxy and the
 * gateway): requests with Content-Length, keep-alive, no pipelining needed (it handles it anyway).
 * A stream is asked for by `"stream":true` in the body and gets the usage chunk when the body has
 * `"include_usage":true` (compact JSON, as JSON.stringify writes it; inside a JSON string a quote is
 * always escaped, so the unescaped pattern can only be the key).
 *
 *   node dist/test/bench/bench-upstream.js --model gpt-4o-mini-2024-07-18 --api-key KEY
 *        [--stream-chunks 20] [--chunk-delay-ms 0] [--port 0]
 * Prints its base URL (ending in /v1) as the first line on stdout; exits on SIGTERM, SIGINT, or when
 * its stdin closes (the benchmark died).
 */

export interface BenchUpstreamOptions {
  model: string;
  apiKey: string;
  /** Content chunks per stream (default 20). */
  streamChunks?: number;
  /** Delay between two stream events (default 0: a stream is written at once). */
  chunkDelayMs?: number;
  port?: number;
}

export interface BenchUpstream {
  /** Base URL, ending in /v1. */
  url: string;
  close(): Promise<void>;
}

const CHAT_PATH = '/v1/chat/completions';
const HEAD_END = Buffer.from('\r\n\r\n');
const STREAM_KEY = Buffer.from('"stream":true');
const INCLUDE_USAGE_KEY = Buffer.from('"include_usage":true');
/** A request head larger than this is refused (431). */
const MAX_HEAD_BYTES = 64 * 1024;

function jsonResponse(status: number, reason: string, body: unknown): Buffer {
  const bytes = Buffer.from(JSON.stringify(body));
  const head = `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${bytes.length}\r\nx-request-id: req_bench1\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bytes]);
}

function chunked(data: string): Buffer {
  const bytes = Buffer.from(data);
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`, 'latin1'), bytes, Buffer.from('\r\n', 'latin1')]);
}

const SSE_HEAD = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\nx-request-id: req_bench1\r\ntransfer-encoding: chunked\r\n\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const UNAUTHORISED = jsonResponse(401, 'Unauthorized', errorBody('Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key'));
const NOT_FOUND = jsonResponse(404, 'Not Found', errorBody('Invalid URL', 'invalid_request_error'));
const BAD_REQUEST = jsonResponse(400, 'Bad Request', errorBody('The request is not HTTP/1.1 this server reads.', 'invalid_request_error'));
const LENGTH_REQUIRED = jsonResponse(411, 'Length Required', errorBody('Content-Length is required.', 'invalid_request_error'));
const HEAD_TOO_LARGE = jsonResponse(431, 'Request Header Fields Too Large', errorBody('The request head is too large.', 'invalid_request_error'));

/** Everything the server answers, serialised once at start. */
class Responses {
  readonly authorization: string;
  readonly chunkDelayMs: number;
  readonly completion: Buffer;
  /** A stream's HTTP chunks, one per SSE event, [DONE] last. */
  readonly events: { withUsage: Buffer[]; withoutUsage: Buffer[] };
  /** Without a delay a stream is written at once, as the tests' fake upstream writes it: head, events, end. */
  readonly wholeStreams: { withUsage: Buffer; withoutUsage: Buffer };

  constructor(options: BenchUpstreamOptions) {
    const answer = { chunks: options.streamChunks ?? 20 };
    this.authorization = `bearer ${options.apiKey}`.toLowerCase();
    this.chunkDelayMs = options.chunkDelayMs ?? 0;
    this.completion = jsonResponse(200, 'OK', chatCompletion(answer, options.model));
    const events = (includeUsage: boolean): Buffer[] =>
      [...chatCompletionChunks(answer, options.model, includeUsage).map((c) => `data: ${JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n'].map(chunked);
    this.events = { withUsage: events(true), withoutUsage: events(false) };
    this.wholeStreams = {
      withUsage: Buffer.concat([SSE_HEAD, ...this.events.withUsage, LAST_CHUNK]),
      withoutUsage: Buffer.concat([SSE_HEAD, ...this.events.withoutUsage, LAST_CHUNK]),
    };
  }
}

interface Head {
  method: string;
  path: string;
  contentLength: number;
  authorised: boolean;
  close: boolean;
}

/** The request line and the headers this server looks at; null when the head is not HTTP/1.1 it can read. */
function parseHead(text: string, authorization: string): Head | null {
  const lines = text.split('\r\n');
  const [method, path, version] = lines[0]!.split(' ');
  if (!method || !path || !version?.startsWith('HTTP/1.')) return null;
  const head: Head = { method, path, contentLength: -1, authorised: false, close: version === 'HTTP/1.0' };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') head.contentLength = /^\d+$/.test(value) ? Number(value) : -2;
    else if (name === 'authorization') head.authorised = value.toLowerCase() === authorization;
    else if (name === 'connection') head.close = value.toLowerCase() === 'close';
    else if (name === 'transfer-encoding') head.contentLength = -2; // chunked bodies are not needed here
  }
  return head;
}

class Connection {
  private buffered: Buffer | null = null;
  private head: Head | null = null;
  private bodyStart = 0;
  private streaming = false;
  private timer: NodeJS.Timeout | null = null;
  private ended = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly responses: Responses,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.timer) clearTimeout(this.timer);
    });
  }

  private onData(data: Buffer): void {
    if (this.ended) return;
    this.buffered = this.buffered === null ? data : Buffer.concat([this.buffered, data]);
    this.drain();
  }

  /** Answers every complete request buffered (one at a time: a slow stream holds the next back). */
  private drain(): void {
    while (this.buffered !== null && !this.streaming) {
      const buffer = this.buffered;
      if (this.head === null) {
        const end = buffer.indexOf(HEAD_END);
        if (end === -1) {
          if (buffer.length > MAX_HEAD_BYTES) this.fail(HEAD_TOO_LARGE);
          return;
        }
        this.head = parseHead(buffer.toString('latin1', 0, end), this.responses.authorization);
        if (this.head === null) return this.fail(BAD_REQUEST);
        if (this.head.contentLength === -2 || (this.head.contentLength === -1 && this.head.method === 'POST')) return this.fail(LENGTH_REQUIRED);
        this.bodyStart = end + 4;
      }
      const head = this.head;
      const bodyEnd = this.bodyStart + Math.max(0, head.contentLength);
      if (buffer.length < bodyEnd) return;
      const body = buffer.subarray(this.bodyStart, bodyEnd);
      this.buffered = bodyEnd === buffer.length ? null : buffer.subarray(bodyEnd);
      this.head = null;
      this.answer(head, body);
    }
  }

  private answer(head: Head, body: Buffer): void {
    if (!head.authorised) return this.send(UNAUTHORISED, head.close);
    if (head.method !== 'POST' || head.path !== CHAT_PATH) return this.send(NOT_FOUND, head.close);
    const r = this.responses;
    if (body.indexOf(STREAM_KEY) === -1) return this.send(r.completion, head.close);
    const withUsage = body.indexOf(INCLUDE_USAGE_KEY) !== -1;
    if (r.chunkDelayMs <= 0) return this.send(withUsage ? r.wholeStreams.withUsage : r.wholeStreams.withoutUsage, head.close);
    this.streamSlowly(withUsage ? r.events.withUsage : r.events.withoutUsage, head.close);
  }

  /** Head and first event at once, then one event every chunkDelayMs; the next request waits. */
  private streamSlowly(events: Buffer[], close: boolean): void {
    this.streaming = true;
    this.socket.write(Buffer.concat([SSE_HEAD, events[0]!]));
    let i = 1;
    const next = (): void => {
      this.timer = null;
      if (this.socket.destroyed) return;
      const event = events[i++]!;
      if (i < events.length) {
        this.socket.write(event);
        this.timer = setTimeout(next, this.responses.chunkDelayMs);
        return;
      }
      // The last event ([DONE]) goes with the end of the body, as the tests' fake ends its streams.
      this.streaming = false;
      this.send(Buffer.concat([event, LAST_CHUNK]), close);
      this.drain();
    };
    this.timer = setTimeout(next, this.responses.chunkDelayMs);
  }

  private send(bytes: Buffer, close: boolean): void {
    if (!close) {
      this.socket.write(bytes);
      return;
    }
    this.buffered = null;
    this.ended = true;
    this.socket.end(bytes);
  }

  private fail(response: Buffer): void {
    this.send(response, true);
  }
}

/** Starts the upstream on 127.0.0.1 (a free port unless told otherwise). */
export async function startBenchUpstream(options: BenchUpstreamOptions): Promise<BenchUpstream> {
  const responses = new Responses(options);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new Connection(socket, responses);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      model: { type: 'string' },
      'api-key': { type: 'string' },
      'stream-chunks': { type: 'string', default: '20' },
      'chunk-delay-ms': { type: 'string', default: '0' },
    },
    strict: true,
  });
  const numbers = [values.port, values['stream-chunks'], values['chunk-delay-ms']];
  if (!values.model || !values['api-key'] || numbers.some((n) => !/^\d+$/.test(n))) {
    process.stderr.write('usage: bench-upstream.js --model NAME --api-key KEY [--stream-chunks N] [--chunk-delay-ms N] [--port N]\n');
    process.exit(64);
  }
  const upstream = await startBenchUpstream({
    model: values.model,
    apiKey: values['api-key'],
    streamChunks: Number(values['stream-chunks']),
    chunkDelayMs: Number(values['chunk-delay-ms']),
    port: Number(values.port),
  });
  process.stdout.write(`${upstream.url}\n`);
  stopWhenToldOrOrphaned(() => {
    void upstream.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
