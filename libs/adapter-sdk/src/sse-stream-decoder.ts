import { isAscii } from 'node:buffer';
import type { ScannedEvent, ScannedEvents, StreamDecoder, StreamDecoderOptions } from './adapter-v2.js';
import type { CanonicalStreamPart } from './canonical.js';
import { streamError } from './error-helpers.js';
import { SseEventEnds, type SseEvent } from './sse-event-splitter.js';

/** The blank line that terminates an event. */
const EVENT_END = Buffer.from('\n\n', 'latin1');

/** Returned for the (common) event that yields nothing: no array per skipped content delta. */
const NO_PARTS: readonly CanonicalStreamPart[] = Object.freeze([]);

/** One server-sent event's fields (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface SseMessage {
  event: string | undefined;
  data: string | undefined;
  /** A line that is neither a comment nor a field SSE defines (event, data, id, retry): not an SSE stream. */
  unknownField?: string;
}

/** What a format's SSE decoder does with each event; the framing around it is shared. */
export interface SseEventReader {
  /** True once the format's terminator (`[DONE]`, `message_stop`) has been read. */
  readonly terminated: boolean;
  /** Names the terminator in the error for a stream that ended without it. */
  readonly terminator: string;
  /**
   * Cheap pre-check on the raw event (latin1 view: one character per byte) for the metering-only
   * mode: true = this event cannot carry anything metering needs, skip it unparsed.
   */
  skipForMetering?(latin1: string): boolean;
  /**
   * The metering-only scan's pre-check over many events at once (scanEvents), instead of
   * skipForMetering on each: the offset of the first character at or after `from` in `text` (latin1)
   * where a marker of an event worth parsing starts, or -1 when there is none; `from` itself to have
   * the event there read whatever it holds (the metadata is not read yet). The event a marker starts
   * in is read; the reader is asked again after each event read (its answer may depend on it).
   */
  nextMeteringEvent?(text: string, from: number): number;
  /**
   * Translation only (not metering-only, which skips content events unread): parts for the whole
   * event text[start, end) of an ASCII chunk (latin1 = its text), when the
   * reader recognises the event as it stands, without its fields split out (parseSseMessage) and
   * without a string of the event: what read() makes of it. Undefined to have it read as usual.
   */
  readRaw?(text: string, start: number, end: number): CanonicalStreamPart[] | undefined;
  /** Parts for one event. May throw on malformed input: the decoder turns that into an error part. */
  read(message: SseMessage): CanonicalStreamPart[];
}

/**
 * Source of a regular expression for one JSON string literal exactly as JSON defines it (no raw
 * control character, only JSON's escapes): what it matches, JSON.parse turns into the string. The
 * stream readers' fast paths use it to recognise their format's common content event in one pass
 * and parse only its text, instead of the whole event (a full JSON.parse per event was most of a
 * translated stream's cost).
 */
export const JSON_STRING_SOURCE = String.raw`"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"`;

/** One JSON string literal exactly where lastIndex says (sticky): test() then leaves lastIndex past it. */
const JSON_STRING_AT = new RegExp(JSON_STRING_SOURCE, 'y');

/** Where the JSON string literal (JSON_STRING_SOURCE) that starts at `at` in `text` ends (past its closing quote), or -1 when none starts there. */
export function jsonStringEnd(text: string, at: number): number {
  JSON_STRING_AT.lastIndex = at;
  return JSON_STRING_AT.test(text) ? JSON_STRING_AT.lastIndex : -1;
}

/**
 * Whether `part` occurs in `text` at `at`: a slice compared whole (V8 compares flat strings with
 * memcmp) costs less than startsWith, which compares character by character. The stream readers
 * compare ~100-200 characters of every content event this way (the bench stream's 20 OpenAI
 * deltas: 3.2 vs 5.1 us in a microbenchmark).
 */
export function equalAt(text: string, at: number, part: string): boolean {
  return text.slice(at, at + part.length) === part;
}

/**
 * The string a JSON string literal (one JSON_STRING_SOURCE matched) stands for: without a backslash
 * it is the text between its quotes, so only a literal with escapes pays for JSON.parse (a stream's
 * content deltas mostly have none).
 */
export function jsonStringValue(literal: string): string {
  return literal.indexOf('\\') === -1 ? literal.slice(1, -1) : (JSON.parse(literal) as string);
}

/**
 * Splits one event's text into its fields; comments and unknown fields are ignored. Lines end with
 * LF or CRLF. Walks the text with indexOf (no array of lines, no sliced line per field): every
 * event of a translated stream passes here.
 */
export function parseSseMessage(text: string): SseMessage {
  let event: string | undefined;
  let data: string | undefined;
  let unknownField: string | undefined;
  const n = text.length;
  let start = 0;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = n;
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === 13 /* \r */) end--;
    if (end > start && text.charCodeAt(start) !== 58 /* ':' comment */) {
      let colon = text.indexOf(':', start);
      if (colon === -1 || colon > end) colon = end;
      let v = colon + 1;
      if (v < end && text.charCodeAt(v) === 32) v++;
      const value = v < end ? text.slice(v, end) : '';
      const nameLength = colon - start;
      if (nameLength === 5 && text.startsWith('event', start)) event = value;
      else if (nameLength === 4 && text.startsWith('data', start)) data = data === undefined ? value : `${data}\n${value}`;
      else if (!(nameLength === 2 && text.startsWith('id', start)) && !(nameLength === 5 && text.startsWith('retry', start))) unknownField ??= text.slice(start, colon);
    }
    start = next;
  }
  return unknownField === undefined ? { event, data } : { event, data, unknownField };
}

/**
 * A StreamDecoder for any SSE-framed format. Events are cut on byte boundaries and decoded as UTF-8
 * only when whole, so a chunk may end anywhere (inside a character too). It never throws: whatever the
 * reader throws becomes one error part, after which the stream is over (later input is ignored).
 */
export function createSseStreamDecoder(reader: SseEventReader, options: StreamDecoderOptions = {}): StreamDecoder {
  let failed = false;
  /** What push holds of an event not yet terminated. */
  let pushTail: Buffer | null = null;

  /** What scanEvents holds of an event not yet terminated. */
  let scanTail: Buffer | null = null;

  /** @param checked the caller already decided the event is to be read (no skipForMetering) */
  const readEvent = (bytes: Buffer, latin1: string, out: CanonicalStreamPart[], checked = false): void => {
    if (failed || reader.terminated) return;
    if (!checked && options.meteringOnly && reader.skipForMetering?.(latin1)) return;
    // An ASCII event's latin1 text is its UTF-8 text: no second decoding (most events of most streams).
    readText(latin1.length === bytes.length && isAscii(bytes) ? latin1 : bytes.toString('utf8'), out);
  };

  /** Reads one whole event's text (decoded); whatever goes wrong becomes the one error part. */
  const readText = (eventText: string, out: CanonicalStreamPart[]): void => {
    try {
      const message = parseSseMessage(eventText);
      if (message.unknownField !== undefined) throw new Error(`a line that is not an SSE field (${JSON.stringify(message.unknownField.slice(0, 40))})`);
      if (message.data === undefined && message.event === undefined) return; // a comment (keep-alive)
      for (const part of reader.read(message)) {
        out.push(part);
        if (part.type === 'error') {
          failed = true;
          return;
        }
      }
    } catch (err) {
      failed = true;
      out.push(streamError(`the upstream sent a malformed stream event: ${describe(err)}`));
    }
  };

  const scanEvents = (chunk: Uint8Array): ScannedEvents => {
    const received = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const bytes = scanTail ? Buffer.concat([scanTail, received]) : received;
    const text = bytes.toString('latin1');
    const read: ScannedEvent[] = [];
    let events = 0;
    let start = 0;
    const ends = new SseEventEnds(text);
    // The next marker at or after `start` (-1: none in the text; below `start`: to be searched).
    let marker = -2;
    for (let end = ends.after(start); end !== -1; end = ends.after(start)) {
      if (!failed && !reader.terminated) {
        let wanted = true;
        if (options.meteringOnly && reader.nextMeteringEvent) {
          if (marker !== -1 && marker < start) marker = reader.nextMeteringEvent(text, start);
          wanted = marker !== -1 && marker < end;
        } else if (options.meteringOnly && reader.skipForMetering) wanted = !reader.skipForMetering(text.slice(start, end));
        if (wanted) {
          const parts: CanonicalStreamPart[] = [];
          const eventBytes = bytes.subarray(start, end);
          const latin1 = text.slice(start, end);
          readEvent(eventBytes, latin1, parts, true);
          read.push({ bytes: eventBytes, latin1, start, end, index: events, parts });
          marker = -2;
        }
      }
      events++;
      start = end;
    }
    scanTail = start < bytes.length ? Buffer.from(bytes.subarray(start)) : null;
    return { bytes, end: start, events, read };
  };

  return {
    push(chunk: Uint8Array): CanonicalStreamPart[] {
      const out: CanonicalStreamPart[] = [];
      if (failed) return out;
      try {
        // Splits as SseEventSplitter does (SseEventEnds), but an event is sliced as bytes only when the chunk is not
        // ASCII (one check per chunk, not per event): a translated stream reads every event, and a
        // Buffer and an event object per event cost more than reading most of them.
        const received = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        const bytes = pushTail ? Buffer.concat([pushTail, received]) : received;
        const text = bytes.toString('latin1');
        const ascii = isAscii(bytes);
        const ends = new SseEventEnds(text);
        let start = 0;
        for (let end = ends.after(start); end !== -1; end = ends.after(start)) {
          if (!failed && !reader.terminated) {
            const raw = ascii && !options.meteringOnly ? reader.readRaw?.(text, start, end) : undefined;
            if (raw) for (const part of raw) out.push(part);
            else {
              const latin1 = text.slice(start, end);
              if (!ascii) readEvent(bytes.subarray(start, end), latin1, out);
              else if (!(options.meteringOnly && reader.skipForMetering?.(latin1))) readText(latin1, out);
            }
          }
          start = end;
        }
        pushTail = start < bytes.length ? Buffer.from(bytes.subarray(start)) : null;
      } catch (err) {
        failed = true;
        out.push(streamError(`the upstream stream could not be read: ${describe(err)}`));
      }
      return out;
    },
    pushEvent(event: SseEvent): readonly CanonicalStreamPart[] {
      if (failed || reader.terminated) return NO_PARTS;
      if (options.meteringOnly && reader.skipForMetering?.(event.latin1)) return NO_PARTS;
      const out: CanonicalStreamPart[] = [];
      readEvent(event.bytes, event.latin1, out);
      return out;
    },
    scanEvents,
    scanRest(): ScannedEvents | undefined {
      const rest = scanTail;
      scanTail = null;
      if (!rest || rest.toString('latin1').trim().length === 0) return undefined;
      return scanEvents(Buffer.concat([rest, EVENT_END]));
    },
    end(): CanonicalStreamPart[] {
      const out: CanonicalStreamPart[] = [];
      const rest = pushTail;
      pushTail = null;
      if (rest && rest.toString('utf8').trim().length > 0) readEvent(rest, rest.toString('latin1'), out);
      if (!failed && !reader.terminated) {
        failed = true;
        out.push(streamError(`the upstream stream ended before ${reader.terminator}`));
      }
      return out;
    },
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
