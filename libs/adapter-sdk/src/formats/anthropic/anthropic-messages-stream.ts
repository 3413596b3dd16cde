import type { AdapterError } from '../../adapter.js';
import type { StreamDecoder, StreamDecoderOptions } from '../../adapter-v2.js';
import { emptyUsage, type CanonicalStreamPart, type FinishReason } from '../../canonical.js';
import { adapterError, isRecord } from '../../error-helpers.js';
import { createSseStreamDecoder, equalAt, JSON_STRING_SOURCE, jsonStringEnd, jsonStringValue, type SseEventReader, type SseMessage } from '../../sse-stream-decoder.js';
import { formatSseEvent, JsonSseEvent, type OutgoingSseEvent } from '../sse-format.js';
import {
  anthropicDeltaUsageFromCanonical,
  anthropicErrorType,
  anthropicStopReason,
  canonicalUsageFromAnthropic,
  errorKindFromAnthropic,
  finishReasonFromAnthropic,
  mergeAnthropicDeltaUsage,
} from './anthropic-usage.js';
import type { AnthropicContentBlock, AnthropicErrorResponse, AnthropicOutgoingEvent } from './anthropic-wire.js';

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what} is not a string`);
  return v;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function index(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error('index is not a content block index');
  return v;
}

/**
 * Anthropic's text delta as Anthropic writes it (compact, its keys in its order):
 * `{"type":"content_block_delta","index":N,"delta":{"type":"text_delta","text":".."}}`. Group: the
 * text literal. Anything else is parsed whole.
 */
const ANTHROPIC_TEXT_DELTA = new RegExp(String.raw`^\{"type":"content_block_delta","index":(?:0|[1-9]\d{0,8}),"delta":\{"type":"text_delta","text":(${JSON_STRING_SOURCE})\}\}$`);

/** A text delta event as Anthropic frames it, before its index and between the index and the text literal (ANTHROPIC_TEXT_DELTA). */
const TEXT_DELTA_HEAD = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":';
const TEXT_DELTA_MIDDLE = ',"delta":{"type":"text_delta","text":';

/** content_block_stop as Anthropic writes it (nothing in it to read). */
const ANTHROPIC_BLOCK_STOP = /^\{"type":"content_block_stop","index":(?:0|[1-9]\d{0,8})\}$/;

const JSON_NUMBER = String.raw`-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?`;
/** A usage value: a count, null, a plain word (service_tier), or an object of counts (cache_creation). */
const USAGE_VALUE = String.raw`(?:${JSON_NUMBER}|null|"[a-z0-9_-]*"|\{(?:"[a-z0-9_]+":(?:${JSON_NUMBER}|null)(?:,"[a-z0-9_]+":(?:${JSON_NUMBER}|null))*)?\})`;

/**
 * message_start as Anthropic writes it (compact, its keys in its order, an empty message). Groups:
 * the id and model literals, the usage object (no escapes in it, so what it matches is JSON).
 * Parsing it whole was the largest part of reading an Anthropic stream's few non-content events.
 */
const ANTHROPIC_MESSAGE_START = new RegExp(
  String.raw`^\{"type":"message_start","message":\{"id":(${JSON_STRING_SOURCE}),"type":"message","role":"assistant","model":(${JSON_STRING_SOURCE}),"content":\[\],` +
    String.raw`"stop_reason":null,"stop_sequence":null(?:,"(?:stop_details|container|diagnostics)":null)*` +
    String.raw`,"usage":(\{(?:"[a-z0-9_]+":${USAGE_VALUE}(?:,"[a-z0-9_]+":${USAGE_VALUE})*)?\})\}\}$`,
);

/** content_block_start of an empty text block as Anthropic writes it: nothing in it to read. */
const ANTHROPIC_EMPTY_TEXT_BLOCK_START = /^\{"type":"content_block_start","index":(?:0|[1-9]\d{0,8}),"content_block":\{"type":"text","text":""(?:,"citations":null)?\}\}$/;

/**
 * message_delta as Anthropic writes it. Groups: the stop reason literal, the stop sequence (`null` or
 * a literal), the usage object (no escapes in it, so what it matches is JSON).
 */
const ANTHROPIC_MESSAGE_DELTA = new RegExp(
  String.raw`^\{"type":"message_delta","delta":\{"stop_reason":(${JSON_STRING_SOURCE}),"stop_sequence":(null|${JSON_STRING_SOURCE})(?:,"(?:stop_details|container)":null)*\}` +
    String.raw`,"usage":(\{(?:"[a-z0-9_]+":${USAGE_VALUE}(?:,"[a-z0-9_]+":${USAGE_VALUE})*)?\})\}$`,
);

/**
 * Reads Anthropic's stream events (https://docs.anthropic.com/en/api/messages-streaming): message_start,
 * content_block_start/delta/stop, message_delta, message_stop, ping, error. Unknown event types are
 * skipped, as Anthropic's versioning policy asks of clients.
 */
export class AnthropicMessagesStreamReader implements SseEventReader {
  terminated = false;
  readonly terminator = 'message_stop';
  /** Content block index -> tool call number, for input_json_delta. */
  private readonly toolOfBlock = new Map<number, number>();
  private usageSoFar: Record<string, unknown> = {};

  /** Content deltas carry nothing metering needs; their SSE event name says so without parsing. */
  skipForMetering(latin1: string): boolean {
    // Anthropic writes the event line first; a prefix test per event, no regular expression.
    const at = latin1.startsWith('event: ') ? 7 : latin1.startsWith('event:') ? 6 : -1;
    if (at === -1) return false;
    return latin1.startsWith('content_block_delta', at) || latin1.startsWith('ping', at) || latin1.startsWith('content_block_stop', at);
  }

  /**
   * The text delta (most of a stream) as Anthropic frames it, event line first, read where it
   * stands: what read() makes of it (ANTHROPIC_TEXT_DELTA's), without the event's fields split out
   * and matched (`npm run bench -- --profile --profile-scenario openai-to-anthropic-stream-c64`).
   */
  readRaw(text: string, start: number, end: number): CanonicalStreamPart[] | undefined {
    if (!equalAt(text, start, TEXT_DELTA_HEAD)) return undefined;
    // The index, as ANTHROPIC_TEXT_DELTA takes it: 0, or up to 9 digits without a leading zero.
    let at = start + TEXT_DELTA_HEAD.length;
    const first = text.charCodeAt(at);
    if (first === 48 /* 0 */) at++;
    else if (first >= 49 && first <= 57) {
      const last = at + 9;
      do at++;
      while (at < last && isDigit(text.charCodeAt(at)));
    } else return undefined;
    if (!equalAt(text, at, TEXT_DELTA_MIDDLE)) return undefined;
    const open = at + TEXT_DELTA_MIDDLE.length;
    const close = jsonStringEnd(text, open);
    if (close === -1 || close + 4 !== end || !text.startsWith('}}\n\n', close)) return undefined;
    return [{ type: 'text-delta', choice: 0, text: jsonStringValue(text.slice(open, close)) }];
  }

  read(message: SseMessage): CanonicalStreamPart[] {
    if (message.data === undefined) return [];
    // The common text delta: only its text is parsed (what the whole parse would read of it).
    const textDelta = ANTHROPIC_TEXT_DELTA.exec(message.data);
    if (textDelta) return [{ type: 'text-delta', choice: 0, text: jsonStringValue(textDelta[1]!) }];
    // The events with nothing to read, as Anthropic writes them: no parse.
    const data = message.data;
    if (data === '{"type":"ping"}' || ANTHROPIC_BLOCK_STOP.test(data)) return [];
    if (data === '{"type":"message_stop"}') {
      this.terminated = true;
      return [];
    }
    const start = ANTHROPIC_MESSAGE_START.exec(data);
    if (start) return this.messageStart(jsonStringValue(start[1]!), jsonStringValue(start[2]!), JSON.parse(start[3]!));
    if (ANTHROPIC_EMPTY_TEXT_BLOCK_START.test(data)) return [];
    const delta = ANTHROPIC_MESSAGE_DELTA.exec(data);
    if (delta) return this.messageDelta(jsonStringValue(delta[1]!), delta[2] === 'null' ? null : jsonStringValue(delta[2]!), JSON.parse(delta[3]!));
    const e: unknown = JSON.parse(message.data);
    if (!isRecord(e)) throw new Error('the event is not a JSON object');
    const type = typeof e.type === 'string' ? e.type : message.event;
    switch (type) {
      case 'message_start': {
        if (!isRecord(e.message)) throw new Error('message_start has no message');
        const m = e.message;
        return this.messageStart(str(m.id, 'message.id'), str(m.model, 'message.model'), m.usage);
      }
      case 'content_block_start':
        return this.blockStart(index(e.index), e.content_block);
      case 'content_block_delta':
        return this.blockDelta(index(e.index), e.delta);
      case 'content_block_stop':
      case 'ping':
        return [];
      case 'message_delta': {
        if (!isRecord(e.delta)) throw new Error('message_delta has no delta');
        return this.messageDelta(e.delta.stop_reason, e.delta.stop_sequence, e.usage);
      }
      case 'message_stop':
        this.terminated = true;
        return [];
      case 'error': {
        const err = isRecord(e.error) ? e.error : {};
        const message = typeof err.message === 'string' ? err.message : 'the upstream reported an error in the stream';
        return [{ type: 'error', error: adapterError(errorKindFromAnthropic(String(err.type ?? ''), message), message) }];
      }
      default:
        return [];
    }
  }

  private messageStart(id: string, model: string, startUsage: unknown): CanonicalStreamPart[] {
    const parts: CanonicalStreamPart[] = [{ type: 'response-metadata', id, model }];
    if (isRecord(startUsage)) {
      this.usageSoFar = startUsage;
      const usage = canonicalUsageFromAnthropic(startUsage);
      if (usage) parts.push({ type: 'usage', usage });
    }
    return parts;
  }

  private messageDelta(raw: unknown, stopSequence: unknown, deltaUsage: unknown): CanonicalStreamPart[] {
    const parts: CanonicalStreamPart[] = [];
    if (typeof raw === 'string') {
      const finish: CanonicalStreamPart = { type: 'finish', choice: 0, reason: finishReasonFromAnthropic(raw), rawReason: raw };
      if (typeof stopSequence === 'string') finish.stopSequence = stopSequence;
      parts.push(finish);
    }
    if (isRecord(deltaUsage)) {
      this.usageSoFar = mergeAnthropicDeltaUsage(this.usageSoFar, deltaUsage);
      const usage = canonicalUsageFromAnthropic(this.usageSoFar);
      if (usage) parts.push({ type: 'usage', usage });
    }
    return parts;
  }

  private blockStart(i: number, block: unknown): CanonicalStreamPart[] {
    if (!isRecord(block)) throw new Error('content_block_start has no content_block');
    switch (block.type) {
      case 'text': {
        const text = str(block.text, 'content_block.text');
        return text ? [{ type: 'text-delta', choice: 0, text }] : [];
      }
      case 'thinking': {
        const text = str(block.thinking, 'content_block.thinking');
        return text ? [{ type: 'reasoning-delta', choice: 0, text }] : [];
      }
      case 'redacted_thinking':
        return [{ type: 'redacted-reasoning', choice: 0, data: str(block.data, 'content_block.data') }];
      case 'tool_use': {
        const n = this.toolOfBlock.size;
        this.toolOfBlock.set(i, n);
        const parts: CanonicalStreamPart[] = [{ type: 'tool-call-start', choice: 0, index: n, id: str(block.id, 'content_block.id'), name: str(block.name, 'content_block.name') }];
        // The input arrives as input_json_delta; a non-empty input here (some proxies send it whole) is kept.
        if (isRecord(block.input) && Object.keys(block.input).length > 0) parts.push({ type: 'tool-call-delta', choice: 0, index: n, inputDelta: JSON.stringify(block.input) });
        return parts;
      }
      default:
        return [];
    }
  }

  private blockDelta(i: number, delta: unknown): CanonicalStreamPart[] {
    if (!isRecord(delta)) throw new Error('content_block_delta has no delta');
    switch (delta.type) {
      case 'text_delta':
        return [{ type: 'text-delta', choice: 0, text: str(delta.text, 'delta.text') }];
      case 'thinking_delta':
        return [{ type: 'reasoning-delta', choice: 0, text: str(delta.thinking, 'delta.thinking') }];
      case 'signature_delta':
        return [{ type: 'reasoning-signature', choice: 0, signature: str(delta.signature, 'delta.signature') }];
      case 'input_json_delta': {
        const tool = this.toolOfBlock.get(i);
        if (tool === undefined) throw new Error(`input_json_delta for block ${i}, which is not a tool_use`);
        const json = str(delta.partial_json, 'delta.partial_json');
        return json ? [{ type: 'tool-call-delta', choice: 0, index: tool, inputDelta: json }] : [];
      }
      default:
        // citations_delta and anything newer.
        return [];
    }
  }
}

/** A decoder for an Anthropic Messages stream (SSE with named events, ending with message_stop). */
export function createAnthropicMessagesStreamDecoder(options?: StreamDecoderOptions): StreamDecoder {
  return createSseStreamDecoder(new AnthropicMessagesStreamReader(), options);
}

export function anthropicErrorEvent(error: AdapterError): AnthropicOutgoingEvent {
  return { type: 'error', error: { type: anthropicErrorType(error.kind), message: error.message } };
}

/** A whole error answer in Anthropic's shape (https://docs.anthropic.com/en/api/errors). */
export function anthropicErrorResponse(error: AdapterError, requestId: string | null): AnthropicErrorResponse {
  return { type: 'error', error: { type: anthropicErrorType(error.kind), message: error.message }, request_id: requestId };
}

export interface AnthropicEventContext {
  fallbackId: string;
  model: string;
}

type OpenBlock = { kind: 'text' | 'thinking' | 'redacted'; index: number } | { kind: 'tool'; index: number; tool: number };

/**
 * Canonical stream parts -> Anthropic stream events for a client. message_start goes out with the
 * first part; blocks open and close as the kind of content changes; the stop reason and the final
 * usage (input too: an OpenAI upstream reports it only at the end) go in message_delta at end().
 * An error part becomes an `error` event and ends the stream (no message_stop). Only choice 0 is
 * written: the format has one.
 */
export class AnthropicEventEncoder {
  private id: string;
  private model: string;
  private started = false;
  private closed = false;
  private nextIndex = 0;
  private open: OpenBlock | undefined;
  private readonly toolBlocks = new Map<number, number>();
  private finish: { reason: FinishReason; raw?: string; stopSequence?: string } | undefined;
  private usage = emptyUsage();

  constructor(ctx: AnthropicEventContext) {
    this.id = ctx.fallbackId;
    this.model = ctx.model;
  }

  push(part: CanonicalStreamPart): OutgoingSseEvent<AnthropicOutgoingEvent>[] {
    if (this.closed) return [];
    if (part.type === 'response-metadata') {
      if (!this.started) {
        if (part.id) this.id = part.id;
        if (part.model) this.model = part.model;
      }
      return [];
    }
    if (part.type === 'usage') {
      this.usage = part.usage;
      return [];
    }
    if ('choice' in part && part.choice !== 0) return [];
    const out = this.start();
    switch (part.type) {
      case 'text-delta':
        this.openBlock('text', { type: 'text', text: '', citations: null }, out);
        out.push(new JsonSseEvent(`{"type":"content_block_delta","index":${this.open!.index},"delta":{"type":"text_delta","text":${JSON.stringify(part.text)}}}`, 'content_block_delta'));
        break;
      case 'reasoning-delta':
        this.openBlock('thinking', { type: 'thinking', thinking: '', signature: '' }, out);
        out.push(ev({ type: 'content_block_delta', index: this.open!.index, delta: { type: 'thinking_delta', thinking: part.text } }));
        break;
      case 'reasoning-signature':
        this.openBlock('thinking', { type: 'thinking', thinking: '', signature: '' }, out);
        out.push(ev({ type: 'content_block_delta', index: this.open!.index, delta: { type: 'signature_delta', signature: part.signature } }));
        break;
      case 'redacted-reasoning':
        this.closeBlock(out);
        this.openBlock('redacted', { type: 'redacted_thinking', data: part.data }, out);
        this.closeBlock(out);
        break;
      case 'tool-call-start': {
        this.closeBlock(out);
        const index = this.nextIndex++;
        this.open = { kind: 'tool', index, tool: part.index };
        this.toolBlocks.set(part.index, index);
        out.push(ev({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: part.id, name: part.name, input: {}, caller: { type: 'direct' } } }));
        break;
      }
      case 'tool-call-delta': {
        const index = this.toolBlocks.get(part.index);
        // A delta for a call never started (a malformed upstream) has no block to go in.
        if (index !== undefined) out.push(ev({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part.inputDelta } }));
        break;
      }
      case 'finish':
        this.closeBlock(out);
        this.finish = { reason: part.reason, raw: part.rawReason, stopSequence: part.stopSequence };
        break;
      case 'error':
        this.closed = true;
        out.push(ev(anthropicErrorEvent(part.error)));
        break;
    }
    return out;
  }

  /**
   * push() as SSE text, ready to write (formatSseEvent of each event): a text delta inside an open
   * text block (most of a translated stream) is written without an event object or an array.
   */
  pushText(part: CanonicalStreamPart): string {
    if (part.type === 'text-delta' && part.choice === 0 && !this.closed && this.started && this.open?.kind === 'text') {
      return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.open.index},"delta":{"type":"text_delta","text":${JSON.stringify(part.text)}}}\n\n`;
    }
    let text = '';
    for (const e of this.push(part)) text += formatSseEvent(e);
    return text;
  }

  end(): OutgoingSseEvent<AnthropicOutgoingEvent>[] {
    if (this.closed) return [];
    const out = this.start();
    this.closeBlock(out);
    this.closed = true;
    const f = this.finish ?? { reason: 'stop' as FinishReason };
    out.push(
      ev({
        type: 'message_delta',
        delta: { stop_reason: anthropicStopReason(f.reason, f.raw, f.stopSequence), stop_sequence: f.stopSequence ?? null, stop_details: null, container: null },
        usage: anthropicDeltaUsageFromCanonical(this.usage),
      }),
    );
    out.push(new JsonSseEvent<AnthropicOutgoingEvent>('{"type":"message_stop"}', 'message_stop'));
    return out;
  }

  private start(): OutgoingSseEvent<AnthropicOutgoingEvent>[] {
    if (this.started) return [];
    this.started = true;
    const u = this.usage;
    // The text JSON.stringify makes of the event object (its keys in this order), written directly:
    // stringifying these few objects was a tenth of a translated stream's encoding
    // (`npm run bench -- --profile --profile-scenario anthropic-to-openai-stream-c64`: formatSseEvent).
    return [
      new JsonSseEvent<AnthropicOutgoingEvent>(
        `{"type":"message_start","message":{"id":${JSON.stringify(this.id)},"type":"message","role":"assistant","model":${JSON.stringify(this.model)},"content":[],` +
          `"stop_reason":null,"stop_sequence":null,"stop_details":null,"container":null,"diagnostics":null,"usage":{"input_tokens":${jsonNumber(u.input.noCache)},` +
          `"output_tokens":${jsonNumber(u.output.total)},"cache_read_input_tokens":${jsonNumber(u.input.cacheRead)},"cache_creation_input_tokens":${jsonNumber(u.input.cacheWrite)},` +
          `"cache_creation":null,"output_tokens_details":null,"server_tool_use":null,"inference_geo":null,"service_tier":null,"speed":null}}}`,
        'message_start',
      ),
    ];
  }

  private openBlock(kind: 'text' | 'thinking' | 'redacted', block: AnthropicContentBlock, out: OutgoingSseEvent<AnthropicOutgoingEvent>[]): void {
    if (this.open?.kind === kind && kind !== 'redacted') return;
    this.closeBlock(out);
    const index = this.nextIndex++;
    this.open = { kind, index };
    out.push(new JsonSseEvent<AnthropicOutgoingEvent>(`{"type":"content_block_start","index":${index},"content_block":${JSON.stringify(block)}}`, 'content_block_start'));
  }

  private closeBlock(out: OutgoingSseEvent<AnthropicOutgoingEvent>[]): void {
    if (!this.open) return;
    out.push(new JsonSseEvent<AnthropicOutgoingEvent>(`{"type":"content_block_stop","index":${this.open.index}}`, 'content_block_stop'));
    this.open = undefined;
  }
}

/** Anthropic names every SSE event after its type. */
/** A number as JSON.stringify writes it (null when not finite). */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

function ev(data: AnthropicOutgoingEvent): OutgoingSseEvent<AnthropicOutgoingEvent> {
  return { event: data.type, data };
}
