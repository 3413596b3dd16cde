import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BehaviourQueue } from './behaviour-queue.js';
import type { FakeEcho } from './fake-behaviour.js';

/**
 * What the OpenAI and Anthropic fakes share: the node:http server and its lifecycle, the behaviour
 * queue, request recording, the answer cache and the ways of writing an answer. A fake adds only
 * its provider's routes, auth and wire format (its `handle`).
 *
 * A base class rather than parts each fake holds: the fakes' public API is this driving API, so
 * composing it would mean the same dozen one-line delegations in each fake.
 */

export interface RecordedRequest {
  method: string;
  /** The path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  /** The query string without `?`, '' when none. */
  query: string;
  /** As Node gives them: names lower-cased. */
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  receivedAt: number;
  /** The credential texts an `echo` behaviour sent back (each form of each header), so a test can see the echo happened. */
  echoed?: string[];
}

/** How a test drives a fake upstream, whichever provider it speaks; B is its behaviour type. */
export interface FakeUpstream<B> {
  /** Base URL, as the provider's SDK takes it as `baseURL`. */
  readonly url: string;
  readonly port: number;
  /** Requests received since start or the last reset(), oldest first (empty while recording is off). */
  readonly requests: readonly RecordedRequest[];
  recording: boolean;
  /** Queues answers for the next requests that take a behaviour (the fake's POST endpoints), whatever their model. */
  enqueue(...behaviours: B[]): void;
  /** Queues answers for the next requests naming this model; taken before the global queue. */
  script(model: string, ...behaviours: B[]): void;
  /** The answer when the queues are empty, for one model or (without `model`) for all. undefined removes it. */
  setDefault(behaviour: B | undefined, model?: string): void;
  /** The key requests must carry; undefined accepts any request. */
  expectApiKey(key: string | undefined): void;
  /** Queued behaviours not used yet (global queue plus every model's script). */
  pending(): number;
  /** Resolves once at least `count` requests were recorded. */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly RecordedRequest[]>;
  /** Forgets recorded requests, queues, scripts and defaults (not the expected key). */
  reset(): void;
  close(): Promise<void>;
}

/** The options both fakes take. */
export interface FakeUpstreamOptions<B> {
  port?: number;
  host?: string;
  apiKey?: string;
  record?: boolean;
  defaultBehaviour?: B;
}

/** What sets one fake apart from the other in the shared machinery. */
export interface FakeUpstreamIdentity<B> {
  /** In messages, e.g. `OpenAI`. */
  name: string;
  /** Appended to `http://host:port` to make `url`, e.g. `/v1` ('' for none). */
  urlPath: string;
  /** The answer when nothing is queued and no default is set. */
  builtInDefault: B;
  /** The request headers an `echo` sends back when it names none. */
  echoHeaders: readonly string[];
}

/** An answer serialised once, sent as is. */
export interface Prepared {
  status: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

/** A request as read: the body parsed when it is JSON, and its record (when recording). */
export interface ReadRequest {
  method: string;
  path: string;
  body: unknown;
  /** True when the body is JSON or empty. */
  bodyIsJson: boolean;
  record: RecordedRequest | undefined;
}

/** What an answer needs of the request it answers. */
export interface AnswerTarget {
  headers: IncomingHttpHeaders;
  /** This request's record, when recording. */
  record: RecordedRequest | undefined;
  res: ServerResponse;
}

/** What an echo adds to an answer: text for its message, and response headers. */
export interface EchoOut {
  /** '' when the message is not to carry it. */
  text: string;
  headers: Record<string, string>;
}

/** How an SSE answer is written. */
export interface StreamWrite {
  /** The answer's extra headers. */
  headers: Record<string, string> | undefined;
  echo: EchoOut | undefined;
  /** Between two events; 0 writes the whole stream at once. */
  delayMs: number;
  /** Destroy the connection after the last event instead of ending the response. */
  breakAfter: number | undefined;
  /** The events already in one buffer, when the caller has it. */
  whole?: Buffer;
}

const JSON_TYPE = 'application/json';
const SSE_HEADERS: OutgoingHttpHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const CACHE_LIMIT = 256;

export function prepareJson(status: number, value: unknown, extraHeaders?: Record<string, string>): Prepared {
  const body = Buffer.from(JSON.stringify(value));
  return { status, headers: { ...extraHeaders, 'content-type': JSON_TYPE, 'content-length': body.length }, body };
}

export abstract class FakeUpstreamServer<B extends object> implements FakeUpstream<B> {
  url = '';
  port = 0;
  recording: boolean;
  protected apiKey: string | undefined;
  protected readonly behaviours: BehaviourQueue<B>;
  private readonly recorded: RecordedRequest[] = [];
  private readonly waiters = new Set<{ count: number; resolve: () => void }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Serialised answers per behaviour and request shape: the benchmark's hot path stringifies nothing. */
  private readonly prepared = new WeakMap<B, Map<string, unknown>>();
  private readonly server: http.Server;

  protected constructor(
    protected readonly options: FakeUpstreamOptions<B>,
    private readonly identity: FakeUpstreamIdentity<B>,
  ) {
    this.recording = options.record ?? true;
    this.apiKey = options.apiKey;
    this.behaviours = new BehaviourQueue(options.defaultBehaviour, identity.builtInDefault);
    this.server = http.createServer((req, res) => this.onRequest(req, res));
  }

  get requests(): readonly RecordedRequest[] {
    return this.recorded;
  }

  enqueue(...behaviours: B[]): void {
    this.behaviours.enqueue(...behaviours);
  }

  script(model: string, ...behaviours: B[]): void {
    this.behaviours.script(model, ...behaviours);
  }

  setDefault(behaviour: B | undefined, model?: string): void {
    this.behaviours.setDefault(behaviour, model);
  }

  expectApiKey(key: string | undefined): void {
    this.apiKey = key;
  }

  pending(): number {
    return this.behaviours.pending();
  }

  waitForRequests(count: number, timeoutMs = 5000): Promise<readonly RecordedRequest[]> {
    if (this.recorded.length >= count) return Promise.resolve(this.recorded);
    return new Promise((resolve, reject) => {
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.recorded);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`fake ${this.identity.name}: ${this.recorded.length} of ${count} requests after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  reset(): void {
    this.recorded.length = 0;
    this.behaviours.reset();
  }

  async listen(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    this.url = `http://${shownHost}:${this.port}${this.identity.urlPath}`;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Answers one request whose body has been read. */
  protected abstract handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void;

  /** Answers a request `handle` failed on, before anything was sent. */
  protected abstract sendInternalError(res: ServerResponse, err: unknown): void;

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.handle(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      } catch (err) {
        if (!res.headersSent) this.sendInternalError(res, err);
        else res.destroy();
      }
    });
  }

  /** Parses the request line and body, and records the request (when recording) before it is answered. */
  protected read(req: IncomingMessage, raw: Buffer): ReadRequest {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    let body: unknown;
    let bodyIsJson = raw.length === 0;
    if (raw.length > 0) {
      const text = raw.toString('utf8');
      try {
        body = JSON.parse(text);
        bodyIsJson = true;
      } catch {
        body = text;
      }
    }
    const record: RecordedRequest | undefined = this.recording ? { method, path, query: q === -1 ? '' : url.slice(q + 1), headers: req.headers, body, receivedAt: Date.now() } : undefined;
    if (record) this.record(record);
    return { method, path, body, bodyIsJson, record };
  }

  private record(r: RecordedRequest): void {
    this.recorded.push(r);
    for (const w of this.waiters) {
      if (this.recorded.length >= w.count) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /** The serialised answer of a behaviour for one shape of request (`key`), built on first use. */
  protected cached<P>(b: B, key: string, build: () => P): P {
    let byKey = this.prepared.get(b);
    if (!byKey) {
      byKey = new Map();
      this.prepared.set(b, byKey);
    }
    let p = byKey.get(key) as P | undefined;
    if (!p) {
      if (byKey.size >= CACHE_LIMIT) byKey.clear();
      p = build();
      byKey.set(key, p);
    }
    return p;
  }

  protected send(res: ServerResponse, p: Prepared, extraHeaders?: Record<string, string>): void {
    res.writeHead(p.status, extraHeaders ? { ...p.headers, ...extraHeaders } : p.headers);
    res.end(p.body);
  }

  /** A `raw` behaviour: its status, headers and body as given, plus any echo. */
  protected sendRaw(b: { status?: number; headers?: Record<string, string>; body: string; echo?: FakeEcho }, target: AnswerTarget): void {
    const echo = this.echo(b.echo, target);
    target.res.writeHead(b.status ?? 200, { 'content-type': JSON_TYPE, ...b.headers, ...echo?.headers });
    target.res.end(echo?.text ? `${b.body} ${echo.text}` : b.body);
  }

  /** The request's credentials as `echo` asks to send them back; recorded on the request. */
  protected echo(echo: FakeEcho | undefined, target: AnswerTarget): EchoOut | undefined {
    if (!echo) return undefined;
    const parts: string[] = [];
    const values: string[] = [];
    for (const name of echo.headers ?? this.identity.echoHeaders) {
      const sent = target.headers[name.toLowerCase()];
      let value = Array.isArray(sent) ? sent.join(', ') : sent;
      if (value === undefined) continue;
      if (name.toLowerCase() === 'authorization') value = value.replace(/^Bearer\s+/i, '');
      for (const form of echo.forms ?? (['plain', 'base64', 'hex'] as const)) {
        const encoded = form === 'plain' ? value : Buffer.from(value, 'utf8').toString(form);
        values.push(encoded);
        parts.push(`${name} (${form}): ${encoded}`);
      }
    }
    if (target.record) (target.record.echoed ??= []).push(...values);
    const text = parts.length > 0 ? `Received ${parts.join('; ')}.` : '';
    const headers: Record<string, string> = {};
    for (const name of echo.inResponseHeaders ?? []) headers[name] = text;
    return { text: echo.inMessage === false ? '' : text, headers };
  }

  /** Writes an SSE answer's events: at once, paced by `delayMs`, or cut off after the last one. */
  protected writeStream(res: ServerResponse, events: readonly Buffer[], w: StreamWrite): void {
    res.writeHead(200, w.headers || w.echo ? { ...SSE_HEADERS, ...w.headers, ...w.echo?.headers } : SSE_HEADERS);
    const { delayMs, breakAfter } = w;
    if (delayMs <= 0 && breakAfter === undefined) {
      res.end(w.whole ?? (events.length === 1 ? events[0] : Buffer.concat(events)));
      return;
    }
    if (events.length === 0) {
      // Break before any event: the headers go out, then the connection drops.
      res.flushHeaders();
      this.later(res, 10, () => res.destroy());
      return;
    }
    let i = 0;
    const writeNext = (): void => {
      const event = events[i++]!;
      if (i < events.length) {
        res.write(event);
        if (delayMs > 0) this.later(res, delayMs, writeNext);
        else writeNext();
      } else if (breakAfter === undefined) {
        res.end(event);
      } else {
        // Destroy only once the event has left, so the client sees exactly `breakAfter` events.
        res.write(event, () => res.destroy());
      }
    };
    writeNext();
  }

  /** A timer that dies with the response or the server. */
  protected later(res: ServerResponse, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      res.off('close', cancel);
      if (!res.destroyed) fn();
    }, ms);
    const cancel = (): void => {
      clearTimeout(timer);
      this.timers.delete(timer);
    };
    this.timers.add(timer);
    res.once('close', cancel);
  }
}
