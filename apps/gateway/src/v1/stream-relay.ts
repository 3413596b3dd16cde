import { formatSseEvent, type CanonicalStreamPart, type OutgoingSseEvent, type ScannedEvents, type SseEvent, type StreamDecoder } from '#libs/adapter-sdk';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { UpstreamExchange } from '../proxy/upstream-exchange.js';
import type { RouteTarget } from '../read-model/read-model.service.js';
import type { CallFailure } from './call-failure.js';
import type { CallMetering } from './call-metering.js';
import type { AnswerContext, ClientFormatWriter } from './client-format-writer.js';

/** Canonical parts -> a client format's events (OpenAIChatChunkEncoder, AnthropicEventEncoder, ...). */
export interface PartEncoder {
  push(part: CanonicalStreamPart): OutgoingSseEvent[];
  /** push() as SSE text (formatSseEvent of each event), where the encoder writes it cheaper than its events. */
  pushText?(part: CanonicalStreamPart): string;
  end(): OutgoingSseEvent[];
}

export interface StreamRelayInput {
  res: ServerResponse;
  status: number;
  headers: OutgoingHttpHeaders;
  exchange: UpstreamExchange;
  target: RouteTarget;
  /** Reads the upstream's stream: metering-only when passing through, whole when translating. */
  decoder: StreamDecoder;
  metering: CallMetering;
  writer: ClientFormatWriter;
  ctx: AnswerContext;
  /**
   * Same format: each upstream event goes to the client as it came, except those `drop` names
   * (OpenAI's usage chunk the gateway asked for on behalf of a client that did not). Otherwise the
   * parts are encoded into the client's format.
   */
  mode: { kind: 'pass-through'; drop?: (event: SseEvent, parts: readonly CanonicalStreamPart[]) => boolean } | { kind: 'translate'; encoder: PartEncoder };
  /** Turns a failure of the upstream connection (reset, timeout) into the taxonomy. */
  transportFailure: (err: unknown) => CallFailure;
}

/** The client closed its connection before the answer was complete. */
export class ClientGone extends Error {
  override name = 'ClientGone';
}

/**
 * Relays one upstream event stream to the client as it arrives (DESIGN.md hot-path rule 3): never
 * the whole stream in memory; a slow client pauses the upstream (back-pressure); a client that leaves
 * stops the generation upstream. When the upstream fails after the first byte (an error event, a
 * broken connection, a stream that ends without its format's terminator), the client gets an error
 * event in its own format before the stream closes, so a truncated answer never looks complete.
 * The upstream's own error event is never relayed as it came: its text goes through the redactor.
 * Resolves with the failure, if any (the caller puts it on the span); never rejects.
 */
export async function relayStream(input: StreamRelayInput): Promise<CallFailure | undefined> {
  const { res, exchange, decoder, metering, mode } = input;
  const redact = (failure: CallFailure): CallFailure => ({ ...failure, message: input.target.redactor.redact(failure.message) });
  const fromPart = (part: Extract<CanonicalStreamPart, { type: 'error' }>): CallFailure =>
    redact({ kind: part.error.kind, message: part.error.message, retryable: part.error.retryable, ...(part.error.retryAfterMs !== undefined ? { retryAfterMs: part.error.retryAfterMs } : {}) });

  res.once('close', () => {
    if (!res.writableFinished) exchange.abort(new ClientGone('the client closed the connection'));
  });
  input.headers['content-type'] = 'text/event-stream; charset=utf-8';
  input.headers['cache-control'] = 'no-cache';
  input.headers['x-accel-buffering'] = 'no';
  // The head goes out with the first bytes (one packet, as any proxy sends it): the upstream's
  // first chunk usually came with its head and reaches the sink as soon as streamTo() resumes it.
  // When it did not, the head is flushed alone right after, so a client still sees the answer start.
  res.writeHead(input.status, input.headers);
  metering.streamStarted();

  let writable = true;
  const onDrain = (): void => exchange.resume();
  res.on('drain', onDrain);
  let failure: CallFailure | undefined;

  const write = (bytes: Buffer, from: number, to: number): void => {
    if (to > from && !res.write(from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to))) writable = false;
  };
  /**
   * Pass-through over a decoder that scans whole chunks (scanEvents): the bytes go out as they came
   * in one write, but for the events `drop` names and what follows an error event; only the events
   * the decoder read (metadata, finish, usage, terminator, errors) are looked at here.
   */
  const scanning = mode.kind === 'pass-through' && decoder.scanEvents ? decoder : undefined;
  const passScanned = (scan: ScannedEvents): void => {
    let from = 0;
    let metered = 0;
    for (const event of scan.read) {
      for (const part of event.parts) {
        if (part.type === 'error') {
          failure = fromPart(part);
          break;
        }
        metering.part(part);
      }
      if (failure) {
        // The events before the error reach the client; the error goes in the client's format.
        write(scan.bytes, from, event.start);
        metering.contentEventPassed(event.index - metered);
        return;
      }
      if (event.parts.length > 0) metered++;
      if (mode.kind === 'pass-through' && mode.drop?.(event, event.parts)) {
        write(scan.bytes, from, event.start);
        from = event.end;
      }
    }
    write(scan.bytes, from, scan.end);
    metering.contentEventPassed(scan.events - metered);
  };
  /** Translation, or a pass-through whose framing is not SSE: parts in, the client's events (or the chunk) out. */
  const readParts = (parts: readonly CanonicalStreamPart[], chunk: Buffer | undefined): void => {
    let text = '';
    for (const part of parts) {
      if (part.type === 'error') {
        failure = fromPart(part);
        break;
      }
      metering.part(part);
      if (mode.kind === 'translate') {
        const encoder = mode.encoder;
        if (encoder.pushText) text += encoder.pushText(part);
        else for (const e of encoder.push(part)) text += formatSseEvent(e);
      }
    }
    if (text.length > 0 && !res.write(text)) writable = false;
    if (chunk && !failure && !res.write(chunk)) writable = false;
  };

  /** One chunk (all the upstream sent in one read) through the decoder to the client. */
  const relay = (chunk: Buffer): void => {
    if (scanning) passScanned(scanning.scanEvents!(chunk));
    else readParts(decoder.push(chunk), mode.kind === 'pass-through' ? chunk : undefined);
  };

  // The upstream's HTTP chunks (often one per SSE event) are gathered for the rest of the current
  // I/O turn and go to the client as one write: a write per event cost more than all the rest of the
  // relay (`npm run bench -- --profile --profile-stream`: writev with ~100 buffers per stream).
  // When the stream ends in the same turn, the last bytes and the end go out as one packet.
  let received: Buffer[] = [];
  let receivedBytes = 0;
  let flushScheduled = false;
  const flushReceived = (): void => {
    flushScheduled = false;
    if (received.length === 0) return;
    const chunk = received.length === 1 ? received[0]! : Buffer.concat(received, receivedBytes);
    received = [];
    receivedBytes = 0;
    writable = true;
    if (!failure) relay(chunk);
    if (failure) exchange.abort(new Error('the upstream reported an error in the stream'));
    else if (!writable) exchange.pause();
  };
  const flushLater = (): void => {
    if (flushScheduled) flushReceived();
  };

  let caught: { err: unknown } | undefined;
  try {
    const ended = exchange.streamTo((chunk) => {
      if (failure) return false;
      received.push(chunk);
      receivedBytes += chunk.length;
      if (receivedBytes >= 65536) flushReceived();
      else if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushLater);
      }
      return !failure; // a full client pauses the upstream in flushReceived, until its drain
    });
    // Nothing came with the head (a model still thinking): the head goes alone, the client sees the answer start.
    if (received.length === 0 && !res.destroyed) res.flushHeaders();
    await ended;
  } catch (err) {
    caught = { err };
  }
  flushReceived();
  if (caught) {
    const err = caught.err;
    if (!failure && !(err instanceof ClientGone)) failure = input.transportFailure(err);
    if (err instanceof ClientGone) failure ??= { kind: 'upstream_error', message: 'the client closed the connection before the answer was complete', retryable: false };
  }
  if (!failure) {
    const rest = scanning?.scanRest!();
    // A last event the upstream did not terminate: terminated, so the client sees it too.
    if (rest) passScanned(rest);
    if (!failure) readParts(decoder.end(), undefined);
  }
  res.off('drain', onDrain);
  if (res.destroyed) return failure;
  if (failure) {
    res.end(input.writer.errorEvent(failure, input.ctx));
    return failure;
  }
  if (mode.kind === 'translate') {
    let text = '';
    for (const e of mode.encoder.end()) text += formatSseEvent(e);
    res.end(text);
  } else res.end();
  return undefined;
}
