import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { anthropicErrorBody, anthropicMessage, anthropicStreamEvents, resolveAnswer, sseEvent } from '../support/fake-upstream/anthropic-wire.js';
import { answerDeltas, chatCompletion, chatCompletionChunks, embeddingBase64, errorBody } from '../support/fake-upstream/openai-wire.js';
import { stopWhenToldOrOrphaned } from './child-lifetime.js';

/**
 * The benchmark's upstream, in one of two formats: OpenAI's (POST /v1/chat/completions and
 * /v1/embeddings) or Anthropic's (POST /v1/messages), with the same bodies the tests' fake upstreams
 * build (openai-wire.ts, anthropic-wire.ts), served from responses serialised once, whole HTTP
 * messages included, on a bare TCP server. On 2 CPUs the upstream shares its CPU with the load
 * generator and the product's other services; node:http cost it ~32 us per request, which left that
 * CPU saturated in the gateway's rounds (metering, Postgres and NATS run there too) so the gateway
 * waited on its callers rather than working. This one costs a few us per request.
 *
 * It speaks the HTTP/1.1 its callers here send (the load generator, the floor proxy and the
 * gateway): requests with Content-Length, keep-alive, no pipelining needed (it handles it anyway).
 * A stream is asked for by `"stream":true` in the body and gets the usage chunk when the body has
 * `"include_usage":true` (compact JSON, as JSON.stringify writes it; inside a JSON string a quote is
 * always escaped, so the unescaped pattern can only be the key). An embeddings request gets the
 * base64 answer when its body has `"encoding_format":"base64"` (what the openai client sends by
 * default), else floats; one embedding whatever the input (a few sentences in the bench).
 * The Anthropic format (`--format anthropic`) checks the key (x-api-key or Bearer) and that an
 * anthropic-version is sent, streams on `"stream":true`, and
 * sends the text of the OpenAI answer as the same number of text_delta events.
 *
 *   node dist/test/bench/bench-upstream.js --model gpt-4o-mini-2024-07-18 --api-key KEY
 *        [--format openai|anthropic] [--embedding-model text-embedding-3-small] [--dimensions 1536]
 *        [--stream-chunks 20] [--chunk-delay-ms 0] [--port 0]
 * Prints its base URL (ending in /v1) as the first line on stdout; exits on SIGTERM, SIGINT, or when
 * its stdin closes (the benchmark died).
 */

export type BenchUpstreamFormat = 'openai' | 'anthropic';

export interface BenchUpstreamOptions {
  /** Default openai. */
  format?: BenchUpstreamFormat;
  /** The chat (or messages) answers' model. */
  model: string;
  apiKey: string;
  /** The embeddings answers' model (OpenAI format; default text-embedding-3-small). */
  embeddingModel?: string;
  /** Embedding dimensions (default 1536, text-embedding-3-small's, so the bodies have a real size). */
  dimensions?: number;
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
const EMBEDDINGS_PATH = '/v1/embeddings';
const MESSAGES_PATH = '/v1/messages';
const HEAD_END = Buffer.from('\r\n\r\n');
const STREAM_KEY = Buffer.from('"stream":true');
const INCLUDE_USAGE_KEY = Buffer.from('"include_usage":true');
const BASE64_KEY = Buffer.from('"encoding_format":"base64"');
/** Tokens of the bench's embeddings input (a few sentences). */
const EMBEDDING_PROMPT_TOKENS = 62;
/** A request head larger than this is refused (431). */
const MAX_HEAD_BYTES = 64 * 1024;

/** OpenAI names its request id header x-request-id, Anthropic request-id. */
const REQUEST_ID_HEADER: Record<BenchUpstreamFormat, string> = { openai: 'x-request-id: req_bench1', anthropic: 'request-id: req_01Bench1' };

function jsonResponse(status: number, reason: string, body: unknown, format: BenchUpstreamFormat = 'openai'): Buffer {
  const bytes = Buffer.from(JSON.stringify(body));
  const head = `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${bytes.length}\r\n${REQUEST_ID_HEADER[format]}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bytes]);
}

/**
 * An embedding like a real model's: unit length, values of every magnitude, each a float32 (as
 * OpenAI computes them), so the float form has the digits real answers have (~33 KB at 1536
 * dimensions) and the base64 form (little-endian float32) decodes to the very same numbers.
 */
export function benchEmbedding(dimensions: number): number[] {
  let seed = 1536;
  const raw = Array.from({ length: dimensions }, () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const u = seed / 0x7fffffff;
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return (u - 0.5) * (0.2 + (seed % 1000) / 1000);
  });
  const norm = Math.sqrt(raw.reduce((a, v) => a + v * v, 0));
  return raw.map((v) => Math.fround(v / norm));
}

/** OpenAI's embeddings answer (the shape of openai-wire.ts's embeddingsResponse) for one input. */
function embeddingsAnswer(model: string, vector: number[], encoding: 'float' | 'base64'): unknown {
  return {
    object: 'list',
    data: [{ object: 'embedding', index: 0, embedding: encoding === 'base64' ? embeddingBase64(vector) : vector }],
    model,
    usage: { prompt_tokens: EMBEDDING_PROMPT_TOKENS, total_tokens: EMBEDDING_PROMPT_TOKENS },
  };
}

function chunked(data: string): Buffer {
  const bytes = Buffer.from(data);
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`, 'latin1'), bytes, Buffer.from('\r\n', 'latin1')]);
}

function sseHead(format: BenchUpstreamFormat): Buffer {
  return Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\n${REQUEST_ID_HEADER[format]}\r\ntransfer-encoding: chunked\r\n\r\n`, 'latin1');
}
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const UNAUTHORISED = jsonResponse(401, 'Unauthorized', errorBody('Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key'));
const NOT_FOUND = jsonResponse(404, 'Not Found', errorBody('Invalid URL', 'invalid_request_error'));
const BAD_REQUEST = jsonResponse(400, 'Bad Request', errorBody('The request is not HTTP/1.1 this server reads.', 'invalid_request_error'));
const LENGTH_REQUIRED = jsonResponse(411, 'Length Required', errorBody('Content-Length is required.', 'invalid_request_error'));
const HEAD_TOO_LARGE = jsonResponse(431, 'Request Header Fields Too Large', errorBody('The request head is too large.', 'invalid_request_error'));

/** A stream's HTTP chunks, one per SSE event (the terminator last), and the whole response when written at once. */
interface Stream {
  head: Buffer;
  events: Buffer[];
  whole: Buffer;
}

function stream(format: BenchUpstreamFormat, sse: string[]): Stream {
  const head = sseHead(format);
  const events = sse.map(chunked);
  return { head, events, whole: Buffer.concat([head, ...events, LAST_CHUNK]) };
}

/** An answer: whole bytes, or a stream (written at once without a delay, as the tests' fake upstream writes it). */
type Answer = { bytes: Buffer } | { stream: Stream };

/** Everything the server answers, serialised once at start, and which answer a request gets. */
class Responses {
  readonly chunkDelayMs: number;
  private readonly format: BenchUpstreamFormat;
  private readonly apiKey: string;
  private readonly bearer: string;
  private readonly answers: {
    completion: Buffer;
    streams: { withUsage: Stream; withoutUsage: Stream };
    embeddings: { float: Buffer; base64: Buffer };
    message: Buffer;
    messageStream: Stream;
  };
  private readonly refusals: { unauthorised: Buffer; notFound: Buffer };

  constructor(options: BenchUpstreamOptions) {
    this.format = options.format ?? 'openai';
    this.apiKey = options.apiKey;
    this.bearer = `bearer ${options.apiKey}`.toLowerCase();
    this.chunkDelayMs = options.chunkDelayMs ?? 0;
    const chunks = options.streamChunks ?? 20;
    const answer = { chunks };
    const chatStream = (includeUsage: boolean): Stream =>
      stream('openai', [...chatCompletionChunks(answer, options.model, includeUsage).map((c) => `data: ${JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n']);
    // The same text as the OpenAI answer, in as many text_delta events as it has content chunks.
    const anthropicAnswer = { id: 'msg_01BenchBenchBenchBench01', blocks: [{ type: 'text' as const, deltas: answerDeltas(answer) }], usage: { inputTokens: 10 } };
    const resolved = resolveAnswer(anthropicAnswer, options.model);
    const vector = benchEmbedding(options.dimensions ?? 1536);
    const embeddingModel = options.embeddingModel ?? 'text-embedding-3-small';
    this.answers = {
      completion: jsonResponse(200, 'OK', chatCompletion(answer, options.model)),
      streams: { withUsage: chatStream(true), withoutUsage: chatStream(false) },
      embeddings: { float: jsonResponse(200, 'OK', embeddingsAnswer(embeddingModel, vector, 'float')), base64: jsonResponse(200, 'OK', embeddingsAnswer(embeddingModel, vector, 'base64')) },
      message: jsonResponse(200, 'OK', anthropicMessage(anthropicAnswer, resolved), 'anthropic'),
      messageStream: stream('anthropic', anthropicStreamEvents(anthropicAnswer, resolved).map(sseEvent)),
    };
    this.refusals =
      this.format === 'anthropic'
        ? {
            unauthorised: jsonResponse(401, 'Unauthorized', anthropicErrorBody('authentication_error', 'invalid x-api-key', 'req_01Bench1'), 'anthropic'),
            notFound: jsonResponse(404, 'Not Found', anthropicErrorBody('not_found_error', 'Not found', 'req_01Bench1'), 'anthropic'),
          }
        : { unauthorised: UNAUTHORISED, notFound: NOT_FOUND };
  }

  /**
   * OpenAI: `authorization: Bearer <key>`. Anthropic: an anthropic-version and the key as x-api-key
   * (what the gateway's adapter sends) or as a Bearer token (what @anthropic-ai/sdk 1.x sends).
   */
  private authorised(head: Head): boolean {
    const bearer = head.authorization?.toLowerCase() === this.bearer;
    if (this.format === 'anthropic') return head.anthropicVersion !== undefined && (head.apiKey === this.apiKey || bearer);
    return bearer;
  }

  answer(head: Head, body: Buffer): Answer {
    if (!this.authorised(head)) return { bytes: this.refusals.unauthorised };
    const a = this.answers;
    const streamed = body.indexOf(STREAM_KEY) !== -1;
    if (head.method === 'POST' && this.format === 'openai') {
      if (head.path === CHAT_PATH) {
        if (!streamed) return { bytes: a.completion };
        return { stream: body.indexOf(INCLUDE_USAGE_KEY) !== -1 ? a.streams.withUsage : a.streams.withoutUsage };
      }
      if (head.path === EMBEDDINGS_PATH) return { bytes: body.indexOf(BASE64_KEY) !== -1 ? a.embeddings.base64 : a.embeddings.float };
    }
    if (head.method === 'POST' && this.format === 'anthropic' && head.path === MESSAGES_PATH) return streamed ? { stream: a.messageStream } : { bytes: a.message };
    return { bytes: this.refusals.notFound };
  }
}

interface Head {
  method: string;
  path: string;
  contentLength: number;
  authorization?: string;
  apiKey?: string;
  anthropicVersion?: string;
  close: boolean;
}

/** The request line and the headers this server looks at; null when the head is not HTTP/1.1 it can read. */
function parseHead(text: string): Head | null {
  const lines = text.split('\r\n');
  const [method, path, version] = lines[0]!.split(' ');
  if (!method || !path || !version?.startsWith('HTTP/1.')) return null;
  const head: Head = { method, path, contentLength: -1, close: version === 'HTTP/1.0' };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') head.contentLength = /^\d+$/.test(value) ? Number(value) : -2;
    else if (name === 'authorization') head.authorization = value;
    else if (name === 'x-api-key') head.apiKey = value;
    else if (name === 'anthropic-version') head.anthropicVersion = value;
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
        this.head = parseHead(buffer.toString('latin1', 0, end));
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
    const answer = this.responses.answer(head, body);
    if ('bytes' in answer) return this.send(answer.bytes, head.close);
    if (this.responses.chunkDelayMs <= 0) return this.send(answer.stream.whole, head.close);
    this.streamSlowly(answer.stream, head.close);
  }

  /** Head and first event at once, then one event every chunkDelayMs; the next request waits. */
  private streamSlowly({ head, events }: Stream, close: boolean): void {
    this.streaming = true;
    this.socket.write(Buffer.concat([head, events[0]!]));
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
      // The last event ([DONE], message_stop) goes with the end of the body, as the tests' fake ends its streams.
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
      format: { type: 'string', default: 'openai' },
      model: { type: 'string' },
      'embedding-model': { type: 'string', default: 'text-embedding-3-small' },
      dimensions: { type: 'string', default: '1536' },
      'api-key': { type: 'string' },
      'stream-chunks': { type: 'string', default: '20' },
      'chunk-delay-ms': { type: 'string', default: '0' },
    },
    strict: true,
  });
  const numbers = [values.port, values['stream-chunks'], values['chunk-delay-ms'], values.dimensions];
  const format = values.format;
  if (!values.model || !values['api-key'] || numbers.some((n) => !/^\d+$/.test(n)) || (format !== 'openai' && format !== 'anthropic')) {
    process.stderr.write(
      'usage: bench-upstream.js --model NAME --api-key KEY [--format openai|anthropic] [--embedding-model NAME] [--dimensions N] [--stream-chunks N] [--chunk-delay-ms N] [--port N]\n',
    );
    process.exit(64);
  }
  const upstream = await startBenchUpstream({
    format,
    model: values.model,
    embeddingModel: values['embedding-model'],
    dimensions: Number(values.dimensions),
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
