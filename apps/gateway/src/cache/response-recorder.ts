import type { ServerResponse } from 'node:http';

/**
 * Keeps a copy of the bytes a call writes to its client (a whole JSON answer, or a stream's SSE
 * events with their framing, whichever path wrote them: passed through or translated), up to a
 * bound. Only calls that use the cache are recorded; the others never pay for it.
 */
export class ResponseRecorder {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private overflowed = false;
  /** The content type given to writeHead() (headers passed there are not readable back with getHeader()). */
  contentType: string | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly maxBytes: number,
  ) {
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      const headers = rest.find((r) => typeof r === 'object' && r !== null && !Array.isArray(r)) as Record<string, unknown> | undefined;
      const type = headers?.['content-type'];
      if (typeof type === 'string') this.contentType = type;
      return writeHead(status, ...rest);
    }) as ServerResponse['writeHead'];
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      this.keep(chunk, rest[0]);
      return write(chunk, ...rest);
    }) as ServerResponse['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'function') this.keep(chunk, rest[0]);
      return end(chunk, ...rest);
    }) as ServerResponse['end'];
  }

  /**
   * The whole body written, when it fit the bound and the answer reached its end (end() was called:
   * a response is `destroyed` once finished, so that says nothing; a client that left mid-stream is
   * a failure the caller's metering reports); else undefined.
   */
  body(): Buffer | undefined {
    if (this.overflowed || !this.res.writableEnded) return undefined;
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
  }

  private keep(chunk: unknown, encoding: unknown): void {
    if (this.overflowed || chunk === undefined || chunk === null) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.isBuffer(chunk) ? Buffer.from(chunk) : chunk instanceof Uint8Array ? Buffer.from(chunk) : undefined;
    if (!buf) return;
    this.bytes += buf.length;
    if (this.bytes > this.maxBytes) {
      this.overflowed = true;
      this.chunks.length = 0;
      return;
    }
    this.chunks.push(buf);
  }
}
