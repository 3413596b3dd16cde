import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { adapterError, isRecord, streamError, type CanonicalStreamPart, type StreamDecoder, type StreamDecoderOptions } from '#libs/adapter-sdk';
import { canonicalUsageFromBedrock, finishReasonFromBedrock } from './bedrock-converse.js';
import { errorKindFromBedrock } from './bedrock-errors.js';

/**
 * ConverseStream's answer (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html):
 * AWS's binary event-stream (application/vnd.amazon.eventstream), each message a length-prefixed frame
 * with CRC-checked headers (:message-type, :event-type or :exception-type) and a JSON payload. The
 * framing is cut here by the length prefix, each whole frame is checked and parsed by
 * @smithy/eventstream-codec. Events: messageStart, contentBlockStart, contentBlockDelta,
 * contentBlockStop, messageStop (the stop reason), metadata (usage, after messageStop).
 */

/** 4-byte total length, 4-byte headers length, 4-byte prelude CRC; 4-byte message CRC at the end. */
const PRELUDE_BYTES = 12;
const MIN_MESSAGE_BYTES = 16;
/** AWS's limit for one event-stream message (16 MiB): a larger length is a broken stream, not a message to wait for. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export const bedrockEventStreamCodec = new EventStreamCodec(toUtf8, fromUtf8);

/** A payload's text; the frame's CRC has already vouched for its bytes. */
const utf8Text = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');

function headerString(headers: Record<string, { type: string; value: unknown }>, name: string): string | undefined {
  const h = headers[name];
  return h && h.type === 'string' && typeof h.value === 'string' ? h.value : undefined;
}

function index(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error('contentBlockIndex is not a block index');
  return v;
}

class BedrockEventStreamDecoder implements StreamDecoder {
  /** Copies of the chunks holding a frame not complete yet (chunks are cut anywhere). */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** The length of the incomplete frame, once its prelude is in (0 before): no copying until it is all there. */
  private awaited = 0;
  private failed = false;
  private stopped = false;
  /** Content block index -> tool call number. */
  private readonly toolOfBlock = new Map<number, number>();

  constructor(private readonly meteringOnly: boolean) {}

  push(chunk: Uint8Array): CanonicalStreamPart[] {
    if (this.failed || chunk.length === 0) return [];
    let buf: Uint8Array;
    if (this.pendingBytes === 0) buf = chunk;
    else if (this.awaited > 0 && this.pendingBytes + chunk.length < this.awaited) {
      // A large frame arriving in small chunks: gathered once, when whole.
      this.pending.push(chunk.slice());
      this.pendingBytes += chunk.length;
      return [];
    } else {
      buf = new Uint8Array(this.pendingBytes + chunk.length);
      let at = 0;
      for (const p of this.pending) {
        buf.set(p, at);
        at += p.length;
      }
      buf.set(chunk, at);
    }
    const parts: CanonicalStreamPart[] = [];
    let at = 0;
    while (buf.length - at >= 4) {
      const length = new DataView(buf.buffer, buf.byteOffset + at, 4).getUint32(0, false);
      if (length < MIN_MESSAGE_BYTES || length > MAX_MESSAGE_BYTES) return this.fail(parts, `an event-stream message claims ${length} bytes`);
      if (buf.length - at < length) break;
      const frame = buf.subarray(at, at + length);
      at += length;
      try {
        this.read(frame, parts);
      } catch (err) {
        return this.fail(parts, `a malformed event-stream message: ${(err as Error).message}`);
      }
      if (this.failed) return parts;
    }
    // Keep the rest (copied: the caller may reuse its buffer).
    if (at === buf.length) {
      this.pending = [];
      this.pendingBytes = 0;
      this.awaited = 0;
    } else {
      const rest = buf.slice(at);
      this.pending = [rest];
      this.pendingBytes = rest.length;
      this.awaited = rest.length >= 4 ? new DataView(rest.buffer, rest.byteOffset, 4).getUint32(0, false) : 0;
    }
    return parts;
  }

  end(): CanonicalStreamPart[] {
    if (this.failed) return [];
    if (this.pendingBytes > 0) return this.fail([], `the stream ended inside an event-stream message (${this.pendingBytes} bytes left)`);
    if (!this.stopped) return this.fail([], 'the stream ended before messageStop');
    return [];
  }

  private fail(parts: CanonicalStreamPart[], message: string, kind: Parameters<typeof streamError>[1] = 'upstream_error'): CanonicalStreamPart[] {
    this.failed = true;
    this.pending = [];
    this.pendingBytes = 0;
    parts.push(streamError(message, kind));
    return parts;
  }

  private read(frame: Uint8Array, parts: CanonicalStreamPart[]): void {
    if (frame.length < PRELUDE_BYTES) throw new Error('too short');
    const message = bedrockEventStreamCodec.decode(frame);
    const headers = message.headers as Record<string, { type: string; value: unknown }>;
    const messageType = headerString(headers, ':message-type');
    if (messageType === 'exception' || messageType === 'error') {
      this.readException(headers, message.body, parts);
      return;
    }
    if (messageType !== 'event') return; // nothing else is defined; skipped, as the SDK does
    const type = headerString(headers, ':event-type');
    // Content deltas carry nothing metering needs; the header says so without parsing the payload.
    if (this.meteringOnly && (type === 'contentBlockDelta' || type === 'contentBlockStart' || type === 'contentBlockStop')) return;
    const payload: unknown = JSON.parse(utf8Text(message.body));
    if (!isRecord(payload)) throw new Error(`${type} is not a JSON object`);
    switch (type) {
      case 'messageStart':
        parts.push({ type: 'response-metadata' });
        return;
      case 'contentBlockStart': {
        const start = payload.start;
        if (isRecord(start) && isRecord(start.toolUse)) {
          const t = start.toolUse;
          if (typeof t.toolUseId !== 'string' || typeof t.name !== 'string') throw new Error('contentBlockStart.toolUse has no toolUseId or name');
          const n = this.toolOfBlock.size;
          this.toolOfBlock.set(index(payload.contentBlockIndex), n);
          parts.push({ type: 'tool-call-start', choice: 0, index: n, id: t.toolUseId, name: t.name });
        }
        return;
      }
      case 'contentBlockDelta':
        this.readDelta(index(payload.contentBlockIndex), payload.delta, parts);
        return;
      case 'contentBlockStop':
        return;
      case 'messageStop': {
        const raw = typeof payload.stopReason === 'string' ? payload.stopReason : 'end_turn';
        this.stopped = true;
        parts.push({ type: 'finish', choice: 0, reason: finishReasonFromBedrock(raw), rawReason: raw });
        return;
      }
      case 'metadata': {
        const usage = canonicalUsageFromBedrock(payload.usage);
        if (usage) parts.push({ type: 'usage', usage });
        return;
      }
      default:
        // Event types newer than this decoder.
        return;
    }
  }

  private readDelta(i: number, delta: unknown, parts: CanonicalStreamPart[]): void {
    if (!isRecord(delta)) throw new Error('contentBlockDelta has no delta');
    if (typeof delta.text === 'string') {
      if (delta.text.length > 0) parts.push({ type: 'text-delta', choice: 0, text: delta.text });
    } else if (isRecord(delta.toolUse)) {
      const tool = this.toolOfBlock.get(i);
      if (tool === undefined) throw new Error(`a toolUse delta for block ${i}, which did not start as a tool use`);
      const input = delta.toolUse.input;
      if (typeof input !== 'string') throw new Error('delta.toolUse.input is not a string');
      if (input.length > 0) parts.push({ type: 'tool-call-delta', choice: 0, index: tool, inputDelta: input });
    } else if (isRecord(delta.reasoningContent)) {
      const r = delta.reasoningContent;
      if (typeof r.text === 'string' && r.text.length > 0) parts.push({ type: 'reasoning-delta', choice: 0, text: r.text });
      if (typeof r.signature === 'string') parts.push({ type: 'reasoning-signature', choice: 0, signature: r.signature });
      if (typeof r.redactedContent === 'string') parts.push({ type: 'redacted-reasoning', choice: 0, data: r.redactedContent });
    }
    // citation deltas and anything newer: nothing canonical.
  }

  /** An exception frame (:exception-type) or an error frame (:error-code/:error-message) as an error part. */
  private readException(headers: Record<string, { type: string; value: unknown }>, body: Uint8Array, parts: CanonicalStreamPart[]): void {
    let text: string | undefined = headerString(headers, ':error-message');
    try {
      const payload: unknown = JSON.parse(utf8Text(body));
      if (isRecord(payload) && typeof payload.message === 'string') text = payload.message;
      else if (isRecord(payload) && typeof payload.Message === 'string') text = payload.Message;
    } catch {
      // an empty or non-JSON payload: the headers say enough
    }
    const type = headerString(headers, ':exception-type') ?? headerString(headers, ':error-code') ?? 'unknown';
    const message = text ?? `the upstream reported ${type} in the stream`;
    this.failed = true;
    parts.push({ type: 'error', error: adapterError(errorKindFromBedrock(type, message) ?? 'upstream_error', message) });
  }
}

/** A decoder for one ConverseStream answer. */
export function createBedrockConverseStreamDecoder(options?: StreamDecoderOptions): StreamDecoder {
  return new BedrockEventStreamDecoder(options?.meteringOnly === true);
}
