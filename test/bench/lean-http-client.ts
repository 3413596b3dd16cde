import net from 'node:net';

/**
 * The load generator's HTTP/1.1 client: keep-alive sockets, one request at a time on each (no
 * pipelining), each request written as one pre-serialised buffer and each answer parsed straight
 * from the socket's chunks (Content-Length, chunked, or until close). It does only what the bench
 * needs, at about half the CPU per request of an undici Pool (32 vs 62 us measured against the
 * fake upstream at concurrency 64): the load generator shares a CPU with the upstream and the
 * product's other services, so its own cost must not decide what a proxy can serve.
 */

export interface LeanRequest {
  /** Path on the client's origin, e.g. /v1/chat/completions. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** What one request hears back; exactly one of onEnd and onError is called, last. */
export interface ResponseHandler {
  /** The status line and headers are in. */
  onStart(statusCode: number): void;
  /** Body bytes as they arrived (chunked framing removed). */
  onData(chunk: Buffer): void;
  onEnd(): void;
  onError(err: Error): void;
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
/** No byte of an answer for this long fails the request (undici's default body and headers timeouts are longer). */
const IDLE_TIMEOUT_MS = 60_000;
/** A head larger than this is not an answer this bench expects. */
const MAX_HEAD_BYTES = 64 * 1024;

export class LeanHttpClient {
  private readonly idle: Connection[] = [];
  private readonly waiting: [LeanRequest, ResponseHandler][] = [];
  private readonly all = new Set<Connection>();
  private readonly wire = new WeakMap<LeanRequest, Buffer>();
  private closed = false;
  private readonly host: string;
  private readonly port: number;
  private readonly hostHeader: string;
  private readonly maxConnections: number;

  constructor(origin: string, maxConnections: number) {
    const url = new URL(origin);
    if (url.protocol !== 'http:') throw new Error(`the load generator speaks plain HTTP only, not ${url.protocol}`);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    this.hostHeader = url.host;
    this.maxConnections = maxConnections;
  }

  /** Sends the request on an idle connection, a new one, or the next to come free. */
  request(req: LeanRequest, handler: ResponseHandler): void {
    if (this.closed) {
      handler.onError(new Error('the client is closed'));
      return;
    }
    const conn = this.idle.pop() ?? (this.all.size < this.maxConnections ? this.connect() : undefined);
    if (conn) conn.send(this.bytesOf(req), handler);
    else this.waiting.push([req, handler]);
  }

  /** Closes every connection; requests still waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [, handler] of this.waiting.splice(0)) handler.onError(new Error('the client is closed'));
    await Promise.all([...this.all].map((c) => c.close()));
  }

  private connect(): Connection {
    const conn = new Connection(net.connect(this.port, this.host), (c, reusable) => this.released(c, reusable));
    this.all.add(conn);
    return conn;
  }

  private released(conn: Connection, reusable: boolean): void {
    if (!reusable) {
      this.all.delete(conn);
      const idleAt = this.idle.indexOf(conn); // a keep-alive connection the server closed while idle
      if (idleAt !== -1) this.idle.splice(idleAt, 1);
    }
    const next = this.waiting.shift();
    if (next) {
      const target = reusable ? conn : this.closed ? undefined : (this.idle.pop() ?? this.connect());
      if (target) target.send(this.bytesOf(next[0]), next[1]);
      else next[1].onError(new Error('the client is closed'));
    } else if (reusable) this.idle.push(conn);
  }

  private bytesOf(req: LeanRequest): Buffer {
    let bytes = this.wire.get(req);
    if (!bytes) {
      let head = `POST ${req.path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n`;
      for (const [name, value] of Object.entries(req.headers)) head += `${name}: ${value}\r\n`;
      head += `content-length: ${req.body.length}\r\n\r\n`;
      bytes = Buffer.concat([Buffer.from(head, 'latin1'), req.body]);
      this.wire.set(req, bytes);
    }
    return bytes;
  }
}

type BodyFraming = { kind: 'length'; remaining: number } | { kind: 'chunked' } | { kind: 'until-close' };
type ChunkState = 'size' | 'data' | 'data-end' | 'trailers';

/** One keep-alive socket and the answer it is reading. */
class Connection {
  private handler: ResponseHandler | undefined;
  /** Bytes of a head, chunk-size line or trailer not yet complete. */
  private pending: Buffer | undefined;
  private framing: BodyFraming | undefined;
  private chunkState: ChunkState = 'size';
  private chunkRemaining = 0;
  private keepAlive = true;
  /** Counts requests sent: a completed answer may start the next request before read() returns. */
  private sent = 0;
  /** Given back to the client for good (it will not be reused). */
  private dead = false;
  private readonly closedPromise: Promise<void>;

  constructor(
    private readonly socket: net.Socket,
    private readonly onRelease: (conn: Connection, reusable: boolean) => void,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(IDLE_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('timeout', () => {
      if (this.handler) this.fail(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000} s`));
    });
    socket.on('error', (err) => this.fail(err));
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        if (this.handler && this.framing?.kind === 'until-close') this.complete();
        else if (this.handler) this.fail(new Error('the connection closed before the answer ended'));
        else this.retire();
        resolve();
      }),
    );
  }

  send(bytes: Buffer, handler: ResponseHandler): void {
    this.sent++;
    this.handler = handler;
    this.framing = undefined;
    this.pending = undefined;
    this.socket.write(bytes);
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closedPromise;
  }

  private read(chunk: Buffer): void {
    if (!this.handler) {
      this.fail(new Error('the server sent bytes without a request'));
      return;
    }
    const request = this.sent;
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    if (!this.framing) {
      const end = data.indexOf(HEAD_END);
      if (end === -1) {
        if (data.length > MAX_HEAD_BYTES) this.fail(new Error('the answer head is too large'));
        else this.pending = data;
        return;
      }
      this.readHead(data.toString('latin1', 0, end));
      if (this.sent !== request || !this.handler) return; // failed, or ended (a bodiless answer)
      data = data.subarray(end + HEAD_END.length);
    }
    this.readBody(data, request);
  }

  /** Parses the status line and the framing headers. */
  private readHead(head: string): void {
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!status) {
      this.fail(new Error(`not an HTTP/1.1 answer: ${head.slice(0, 40)}`));
      return;
    }
    let length: number | undefined;
    let chunked = false;
    this.keepAlive = head.startsWith('HTTP/1.1');
    for (const line of head.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.split(',').pop()!.trim() === 'chunked';
      else if (name === 'connection') this.keepAlive = value !== 'close' && (this.keepAlive || value === 'keep-alive');
    }
    const code = Number(status[1]);
    if (code === 204 || code === 304 || code < 200) this.framing = { kind: 'length', remaining: 0 }; // never a body
    else if (chunked) this.framing = { kind: 'chunked' };
    else if (length !== undefined && Number.isInteger(length) && length >= 0) this.framing = { kind: 'length', remaining: length };
    else this.framing = { kind: 'until-close' };
    this.chunkState = 'size';
    this.handler!.onStart(code);
    if (this.framing.kind === 'length' && this.framing.remaining === 0) this.complete();
  }

  private readBody(data: Buffer, request: number): void {
    const framing = this.framing!;
    if (framing.kind === 'until-close') {
      if (data.length > 0) this.handler!.onData(data);
      return;
    }
    if (framing.kind === 'length') {
      if (data.length === 0) return;
      if (data.length > framing.remaining) {
        this.fail(new Error('the server sent more than its Content-Length'));
        return;
      }
      framing.remaining -= data.length;
      this.handler!.onData(data);
      if (framing.remaining === 0) this.complete();
      return;
    }
    this.readChunked(data, request);
  }

  private readChunked(data: Buffer, request: number): void {
    let at = 0;
    while (at < data.length && this.handler && this.sent === request) {
      if (this.chunkState === 'data') {
        const take = Math.min(this.chunkRemaining, data.length - at);
        this.handler.onData(data.subarray(at, at + take));
        at += take;
        this.chunkRemaining -= take;
        if (this.chunkRemaining === 0) this.chunkState = 'data-end';
        continue;
      }
      // The other states read one CRLF-ended line.
      const eol = data.indexOf(CRLF, at);
      if (eol === -1) {
        this.pending = data.subarray(at);
        return;
      }
      const line = data.toString('latin1', at, eol);
      at = eol + CRLF.length;
      if (this.chunkState === 'size') {
        const size = Number.parseInt(line, 16);
        if (!Number.isInteger(size) || size < 0) {
          this.fail(new Error(`bad chunk size line: ${line.slice(0, 20)}`));
          return;
        }
        if (size === 0) this.chunkState = 'trailers';
        else {
          this.chunkRemaining = size;
          this.chunkState = 'data';
        }
      } else if (this.chunkState === 'data-end') {
        if (line !== '') {
          this.fail(new Error('a chunk did not end with CRLF'));
          return;
        }
        this.chunkState = 'size';
      } else if (line === '') this.complete(); // the empty line after the last chunk's trailers
    }
  }

  private complete(): void {
    const handler = this.handler!;
    this.handler = undefined;
    this.pending = undefined;
    const reusable = this.keepAlive && !this.socket.destroyed && this.framing?.kind !== 'until-close';
    if (!reusable) this.socket.destroy();
    handler.onEnd();
    if (reusable) this.onRelease(this, true);
    else this.retire();
  }

  private fail(err: Error): void {
    const handler = this.handler;
    this.handler = undefined;
    if (!this.socket.destroyed) this.socket.destroy();
    handler?.onError(err);
    this.retire();
  }

  /** Gives the connection back once, for good. */
  private retire(): void {
    if (this.dead) return;
    this.dead = true;
    this.onRelease(this, false);
  }
}
