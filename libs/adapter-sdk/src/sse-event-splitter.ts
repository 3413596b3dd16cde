/**
 * Splits a Server-Sent Events byte stream into whole events without buffering more than the one
 * event still incomplete. Chunks may cut events (and UTF-8 characters) anywhere.
 */
export class SseEventSplitter {
  private tail = '';
  private readonly decoder = new TextDecoder();

  /** Returns the events completed by this chunk, each with its terminating blank line. */
  push(chunk: Uint8Array): string[] {
    const text = this.tail + this.decoder.decode(chunk, { stream: true });
    const events: string[] = [];
    let start = 0;
    for (;;) {
      const lf = text.indexOf('\n\n', start);
      const crlf = text.indexOf('\r\n\r\n', start);
      let end: number;
      if (lf === -1 && crlf === -1) break;
      if (crlf !== -1 && (lf === -1 || crlf < lf)) end = crlf + 4;
      else end = lf + 2;
      events.push(text.slice(start, end));
      start = end;
    }
    this.tail = text.slice(start);
    return events;
  }

  /** Whatever is left when the stream ends (an event without its blank line). */
  flush(): string {
    const rest = this.tail + this.decoder.decode();
    this.tail = '';
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
