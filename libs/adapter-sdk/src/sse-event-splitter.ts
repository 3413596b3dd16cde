/** One SSE event: its bytes as received, and the same bytes as a latin1 string for ASCII searches. */
export interface SseEvent {
  bytes: Buffer;
  /** One character per byte (latin1): find ASCII markers with fast string search; decode `bytes` as UTF-8 to read it. */
  latin1: string;
}

/**
 * Splits a Server-Sent Events byte stream into whole events without decoding it as UTF-8 and
 * without buffering more than the one event still incomplete. Chunks may cut events (and UTF-8
 * characters) anywhere; each event's bytes are slices of what was received, so a proxy can forward
 * them unchanged and decode only the few it must read. Boundaries are found on a latin1 view of the
 * chunk (byte offsets = string offsets), which V8 searches faster than a Buffer.
 */
/**
 * Where the SSE events of one text end (each after its blank line, LF or CRLF framed), found in
 * order. Each search resumes only when its last match is behind: a chunk of many LF-framed events is
 * not searched to its end for a CRLF blank line once per event (quadratic in the chunk).
 */
export class SseEventEnds {
  private lf = -2;
  private crlf = -2;

  constructor(private readonly text: string) {}

  /** The end of the event that starts at `start` (past its blank line); -1 when the text holds no whole event from there. */
  after(start: number): number {
    const text = this.text;
    if (this.lf !== -1 && this.lf < start) this.lf = text.indexOf('\n\n', start);
    if (this.crlf !== -1 && this.crlf < start) this.crlf = text.indexOf('\r\n\r\n', start);
    const lf = this.lf;
    const crlf = this.crlf;
    if (lf === -1 && crlf === -1) return -1;
    return crlf !== -1 && (lf === -1 || crlf < lf) ? crlf + 4 : lf + 2;
  }
}

export class SseEventSplitter {
  private tail: Buffer | null = null;

  /** The events completed by this chunk, each with its terminating blank line. */
  push(chunk: Buffer): SseEvent[] {
    const bytes = this.tail ? Buffer.concat([this.tail, chunk]) : chunk;
    const text = bytes.toString('latin1');
    const events: SseEvent[] = [];
    const ends = new SseEventEnds(text);
    let start = 0;
    for (let end = ends.after(start); end !== -1; end = ends.after(start)) {
      events.push({ bytes: bytes.subarray(start, end), latin1: text.slice(start, end) });
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
