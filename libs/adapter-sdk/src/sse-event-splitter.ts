const LFLF = Buffer.from('\n\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Splits a Server-Sent Events byte stream into whole events without decoding it and without
 * buffering more than the one event still incomplete. Chunks may cut events (and UTF-8 characters)
 * anywhere; the events returned are slices of the bytes received, so a proxy can forward them
 * unchanged and decode only the few it must read.
 */
export class SseEventSplitter {
  private tail: Buffer | null = null;

  /** The events completed by this chunk, each with its terminating blank line. */
  push(chunk: Buffer): Buffer[] {
    const bytes = this.tail ? Buffer.concat([this.tail, chunk]) : chunk;
    const events: Buffer[] = [];
    let start = 0;
    for (;;) {
      const lf = bytes.indexOf(LFLF, start);
      const crlf = bytes.indexOf(CRLFCRLF, start);
      if (lf === -1 && crlf === -1) break;
      const end = crlf !== -1 && (lf === -1 || crlf < lf) ? crlf + 4 : lf + 2;
      events.push(bytes.subarray(start, end));
      start = end;
    }
    this.tail = start < bytes.length ? Buffer.from(bytes.subarray(start)) : null;
    return events;
  }

  /** Whatever is left when the stream ends (an event without its blank line). */
  flush(): Buffer | null {
    const rest = this.tail;
    this.tail = null;
    return rest;
  }
}

/** The joined `data:` lines of one event, or undefined for comments and events without data. */
export function sseData(event: string): string | undefined {
  let data: string | undefined;
  for (const rawLine of event.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

/** Writes byte slices, merging neighbours that are adjacent in the same memory into one write. */
export class SliceWriter {
  private pending: Buffer | null = null;

  constructor(private readonly write: (bytes: Buffer) => void) {}

  add(slice: Buffer): void {
    const p = this.pending;
    if (p && p.buffer === slice.buffer && p.byteOffset + p.length === slice.byteOffset) {
      this.pending = Buffer.from(p.buffer, p.byteOffset, p.length + slice.length);
      return;
    }
    this.flush();
    this.pending = slice;
  }

  flush(): void {
    if (this.pending) this.write(this.pending);
    this.pending = null;
  }
}
