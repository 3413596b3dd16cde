import type { AdapterError, ErrorKind } from '../../adapter.js';
import type { StreamDecoder, StreamDecoderOptions } from '../../adapter-v2.js';
import type { CanonicalStreamPart } from '../../canonical.js';
import { adapterError, isRecord } from '../../error-helpers.js';
import { createSseStreamDecoder, equalAt, JSON_STRING_SOURCE, jsonStringEnd, jsonStringValue, type SseEventReader, type SseMessage } from '../../sse-stream-decoder.js';
import { formatSseEvent, JsonSseEvent, type OutgoingSseEvent } from '../sse-format.js';
import { canonicalUsageFromOpenAI, finishReasonFromOpenAI, openAIFinishReason, openAIUsageFromCanonical } from './openai-usage.js';
import type { OpenAIChatChunk, OpenAIErrorBody, OpenAIUsage } from './openai-wire.js';

/** The taxonomy kind of an error object OpenAI-compatible servers put in a stream or a body. */
export function errorKindFromOpenAI(err: Record<string, unknown>): ErrorKind {
  const code = String(err.code ?? '');
  const type = String(err.type ?? '');
  if (code === 'context_length_exceeded') return 'context_length';
  if (code === 'content_filter' || code === 'content_policy_violation') return 'content_filter';
  if (code === 'rate_limit_exceeded' || type === 'rate_limit_error' || type === 'requests' || type === 'tokens') return 'rate_limited';
  if (code === 'invalid_api_key' || type === 'authentication_error') return 'auth';
  if (type === 'invalid_request_error') return 'bad_request';
  return 'upstream_error';
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

function text(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Error(`${what} is not a string`);
  return v;
}

/** Whether `key` occurs with a value starting with the character `code` (JSON whitespace allowed between). */
export function valueStartsWith(text: string, key: string, code: number): boolean {
  for (let at = text.indexOf(key); at !== -1; at = text.indexOf(key, at + key.length)) {
    let i = at + key.length;
    while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9 || text.charCodeAt(i) === 10 || text.charCodeAt(i) === 13)) i++;
    if (text.charCodeAt(i) === code) return true;
  }
  return false;
}

/**
 * What makes an OpenAI stream event worth parsing for metering: [DONE], an error, a usage object,
 * a finish reason that is a string (JSON whitespace allowed around the colon). One regular
 * expression pass per event: the four substring searches it replaces cost ~4x as much (a ~270-byte
 * content delta, 22 of them per bench stream: 22 -> 6 us per stream).
 */
export const OPENAI_METERING_EVENT = /\[DONE\]|"error"|"usage"[ \t\r\n]*:[ \t\r\n]*\{|"finish_reason"[ \t\r\n]*:[ \t\r\n]*"/;

/** The same markers, searched over many events at once (SseEventReader.nextMeteringEvent). */
const OPENAI_METERING_MARKERS = new RegExp(OPENAI_METERING_EVENT.source, 'g');

/** Where the next OpenAI metering marker starts in `text` at or after `from`, or -1. */
export function nextOpenAIMeteringMarker(text: string, from: number): number {
  OPENAI_METERING_MARKERS.lastIndex = from;
  const match = OPENAI_METERING_MARKERS.exec(text);
  return match === null ? -1 : match.index;
}

const JSON_NUMBER = String.raw`-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?`;

/**
 * A stream's content deltas that all look alike: the same bytes but for the content's JSON string
 * literal (OpenAI repeats id, created, model and the choice around every piece of text). The first
 * event after the metadata, when it is a content delta (checked whole by OPENAI_CONTENT_DELTA), is
 * kept as the template: its text before and after the literal. The next events are compared with
 * it (two prefix comparisons and the literal matched where it must be) instead of being searched
 * for metering markers (`skip`) or split into fields and matched whole (`read`): the marker
 * alternation, which V8 cannot skip through quickly, was the pass-through stream's largest cost
 * after the socket writes (`npm run bench -- --profile --profile-stream`: 7.7 us of ~138 per
 * request), and OPENAI_CONTENT_DELTA the translated stream's (6.9 us of ~151).
 */
export class OpenAIContentDeltaTemplate {
  /** The template event up to its content literal's opening quote (`data: {"id":...,"content":`). */
  private prefix: string | undefined;
  /**
   * The template event after its content literal, through its blank line (`},"logprobs":null,...}\n\n`);
   * for an obfuscated stream, through `"obfuscation":` only: that value differs in every event.
   */
  private suffix = '';
  /** OpenAI's streams carry `"obfuscation":"<random>"` last in every chunk unless the request turns it off. */
  private obfuscated = false;
  private choice = 0;
  /** Whether learning was tried: one attempt per stream. */
  private tried = false;

  /**
   * For the metering-only scan: where the first event at or after `from` (an event's start) that
   * does not fit the template starts (`text.length` when all do). What it skips holds no metering
   * marker, so the next marker found from there is the one a search from `from` finds.
   */
  skip(text: string, from: number): number {
    if (!this.tried) this.learn(text, from);
    // Content "[DONE]" is a marker the plain search stops at; so is a literal that is exactly "error".
    let done = -2;
    let at = from;
    while (at < text.length) {
      const open = this.contentAt(text, at);
      if (open === -1) return at;
      const close = jsonStringEnd(text, open);
      const end = close === -1 ? -1 : this.eventEnd(text, close);
      if (end === -1) return at;
      if (close - open === 7 && text.startsWith('"error"', open)) return at;
      if (done !== -1 && done < open) done = text.indexOf('[DONE]', open);
      if (done !== -1 && done < close) return at;
      at = end;
    }
    return at;
  }

  /**
   * For translation: the parts of the event text[start, end) (whole, ASCII) when it fits the
   * template, as read() makes them of it (OPENAI_CONTENT_DELTA's); undefined when it does not fit.
   */
  read(text: string, start: number, end: number): CanonicalStreamPart[] | undefined {
    if (!this.tried) this.learn(text, start);
    const open = this.contentAt(text, start);
    if (open === -1) return undefined;
    const close = jsonStringEnd(text, open);
    if (close === -1 || this.eventEnd(text, close) !== end) return undefined;
    const content = jsonStringValue(text.slice(open, close));
    return content ? [{ type: 'text-delta', choice: this.choice, text: content }] : [];
  }

  /**
   * Where the event whose content literal ends at `close` ends (past its blank line) when the rest of
   * it is the template's, or -1. An obfuscation value is taken when it is plain (letters, digits,
   * `_-+/=`, and not "error"), as OpenAI's are: it then holds no metering marker.
   */
  private eventEnd(text: string, close: number): number {
    if (!equalAt(text, close, this.suffix)) return -1;
    const at = close + this.suffix.length;
    if (!this.obfuscated) return at;
    const end = plainLiteralEnd(text, at);
    return end !== -1 && equalAt(text, end, '}\n\n') ? end + 3 : -1;
  }

  /** Where the content literal of the event at `at` starts when the event starts as the template does, or -1. */
  private contentAt(text: string, at: number): number {
    const prefix = this.prefix;
    return prefix !== undefined && equalAt(text, at, prefix) ? at + prefix.length : -1;
  }

  private learn(text: string, from: number): void {
    this.tried = true;
    const lineEnd = text.indexOf('\n', from);
    if (lineEnd === -1 || text.charCodeAt(lineEnd + 1) !== 10 || !text.startsWith('data: ', from)) return;
    const data = text.slice(from + 6, lineEnd);
    const m = OPENAI_CONTENT_DELTA.exec(data);
    if (m === null) return;
    // Where the literal starts: a literal holds no unescaped quote, so the first `"delta":{"content":` is the choice's.
    const open = from + 6 + data.indexOf(CONTENT_KEY) + CONTENT_KEY.length;
    const close = open + m[2]!.length;
    // Copies (a latin1 round trip), not slices: a slice would keep the whole chunk's text for the stream's life.
    const prefix = flatCopy(text.slice(from, open));
    let suffix = flatCopy(text.slice(close, lineEnd + 2));
    if (OPENAI_METERING_EVENT.test(prefix) || OPENAI_METERING_EVENT.test(suffix)) return;
    const obfuscation = OBFUSCATION_LAST.exec(suffix);
    if (obfuscation !== null) suffix = suffix.slice(0, obfuscation.index + OBFUSCATION_KEY.length);
    this.prefix = prefix;
    this.suffix = suffix;
    this.obfuscated = obfuscation !== null;
    this.choice = Number(m[1]);
  }
}

const CONTENT_KEY = '"delta":{"content":';
const OBFUSCATION_KEY = ',"obfuscation":';
/** A chunk's obfuscation member, last, with a plain value (see plainLiteralEnd), through the event's end. */
const OBFUSCATION_LAST = /,"obfuscation":"[A-Za-z0-9_+/=-]*"\}\n\n$/;

/** Where the plain JSON string literal (letters, digits, `_-+/=`; not "error") starting at `at` ends, or -1. */
function plainLiteralEnd(text: string, at: number): number {
  if (text.charCodeAt(at) !== 34) return -1;
  let i = at + 1;
  for (let c = text.charCodeAt(i); c !== 34; c = text.charCodeAt(++i)) {
    const plain = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45 || c === 43 || c === 47 || c === 61;
    if (!plain) return -1; // NaN past the end too
  }
  return i - at === 6 && text.startsWith('"error', at) ? -1 : i + 1;
}

/** A one-byte string's characters in a string of its own. */
function flatCopy(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('latin1');
}

/**
 * OpenAI's content delta as OpenAI writes it (compact, its keys in its order), of a choice whose
 * text is not finished: `{"id":..,"object":"chat.completion.chunk","created":..,"model":..,
 * ["service_tier"|"system_fingerprint":..,]"choices":[{"index":N,"delta":{"content":".."}[,"logprobs":null],
 * "finish_reason":null}][,"usage":null][,"obfuscation":".."]}`. Groups: the choice index, the content
 * literal. Anything else (whitespace, another key, a finish, several choices) is parsed whole.
 */
const OPENAI_CONTENT_DELTA = new RegExp(
  String.raw`^\{"id":${JSON_STRING_SOURCE},"object":"chat\.completion\.chunk","created":${JSON_NUMBER},"model":${JSON_STRING_SOURCE}` +
    String.raw`(?:,"(?:service_tier|system_fingerprint)":(?:${JSON_STRING_SOURCE}|null))*` +
    String.raw`,"choices":\[\{"index":(0|[1-9]\d{0,8}),"delta":\{"content":(${JSON_STRING_SOURCE})\}(?:,"logprobs":null)?,"finish_reason":null\}\]` +
    String.raw`(?:,"usage":null)?(?:,"obfuscation":${JSON_STRING_SOURCE})?\}$`,
);

/** A usage object of counts (OpenAI's, nested details included): numbers and nulls only, so what it matches is JSON. */
const JSON_COUNTS_OBJECT = String.raw`\{(?:"[a-z0-9_]+":(?:${JSON_NUMBER}|null|\{(?:"[a-z0-9_]+":(?:${JSON_NUMBER}|null)(?:,"[a-z0-9_]+":(?:${JSON_NUMBER}|null))*)?\})` +
  String.raw`(?:,"[a-z0-9_]+":(?:${JSON_NUMBER}|null|\{(?:"[a-z0-9_]+":(?:${JSON_NUMBER}|null)(?:,"[a-z0-9_]+":(?:${JSON_NUMBER}|null))*)?\}))*)?\}`;

/**
 * OpenAI's other chunks as OpenAI writes them, the ones a stream's metering reads: the first (role,
 * empty content), the finish, the usage chunk. Groups: id, created, model literals; then either the
 * choice index and the finish_reason (`null` or a literal), or the usage object. A full JSON.parse of
 * these three was most of a pass-through stream's decoding (`npm run bench -- --profile --profile-stream`).
 */
const OPENAI_METERED_CHUNK = new RegExp(
  String.raw`^\{"id":(${JSON_STRING_SOURCE}),"object":"chat\.completion\.chunk","created":(${JSON_NUMBER}),"model":(${JSON_STRING_SOURCE})` +
    String.raw`(?:,"(?:service_tier|system_fingerprint)":(?:${JSON_STRING_SOURCE}|null))*,"choices":\[` +
    String.raw`(?:\{"index":(0|[1-9]\d{0,8}),"delta":\{(?:"role":"assistant","content":""(?:,"refusal":null)?)?\}(?:,"logprobs":null)?,"finish_reason":(null|${JSON_STRING_SOURCE})\}\](?:,"usage":null)?` +
    String.raw`|\],"usage":(${JSON_COUNTS_OBJECT}))(?:,"obfuscation":${JSON_STRING_SOURCE})?\}$`,
);

/**
 * Reads OpenAI chat.completion.chunk events (https://platform.openai.com/docs/api-reference/chat-streaming).
 * Each chunk is checked before use: a field of the wrong type makes the stream fail with an error part.
 */
class OpenAIChatStreamReader implements SseEventReader {
  terminated = false;
  readonly terminator = '[DONE]';
  private metadataSent = false;
  /** Tool calls started, per choice (`${choice}:${index}`). */
  private readonly startedTools = new Set<string>();
  private readonly contentDeltas = new OpenAIContentDeltaTemplate();

  /** @param meteringOnly content deltas never reach read() (skipForMetering): no fast path to try on the events that do */
  constructor(private readonly meteringOnly = false) {}

  /**
   * Plain substring searches, no regular expression per event: every content delta of a stream
   * passes here. Only a finish reason that is a string (not null), a usage object, an error or
   * [DONE] needs the event parsed.
   */
  skipForMetering(latin1: string): boolean {
    return this.metadataSent && !OPENAI_METERING_EVENT.test(latin1);
  }

  readRaw(text: string, start: number, end: number): CanonicalStreamPart[] | undefined {
    return this.metadataSent ? this.contentDeltas.read(text, start, end) : undefined;
  }

  nextMeteringEvent(text: string, from: number): number {
    if (!this.metadataSent) return from;
    const at = this.contentDeltas.skip(text, from);
    return at === text.length ? -1 : nextOpenAIMeteringMarker(text, at);
  }

  read(message: SseMessage): CanonicalStreamPart[] {
    const data = message.data;
    if (data === undefined) return [];
    if (data.trim() === '[DONE]') {
      this.terminated = true;
      return [];
    }
    if (this.metadataSent && !this.meteringOnly) {
      // The common content delta: only its text is parsed (what the whole parse would read of it).
      const delta = OPENAI_CONTENT_DELTA.exec(data);
      if (delta) {
        const content = jsonStringValue(delta[2]!);
        return content ? [{ type: 'text-delta', choice: Number(delta[1]), text: content }] : [];
      }
    }
    const metered = this.readMeteredChunk(data);
    if (metered) return metered;
    const chunk: unknown = JSON.parse(data);
    if (!isRecord(chunk)) throw new Error('the event is not a JSON object');
    if (isRecord(chunk.error)) {
      const e = chunk.error;
      return [{ type: 'error', error: adapterError(errorKindFromOpenAI(e), typeof e.message === 'string' ? e.message : 'the upstream reported an error in the stream') }];
    }
    const parts: CanonicalStreamPart[] = [];
    // Azure OpenAI opens its streams with a chunk of prompt_filter_results whose id and model are
    // empty strings: the metadata is the first chunk that names them.
    if (!this.metadataSent && (nonEmpty(chunk.id) || nonEmpty(chunk.model))) {
      this.metadataSent = true;
      const meta: CanonicalStreamPart = { type: 'response-metadata' };
      if (nonEmpty(chunk.id)) meta.id = chunk.id;
      if (nonEmpty(chunk.model)) meta.model = chunk.model;
      if (typeof chunk.created === 'number') meta.created = chunk.created;
      parts.push(meta);
    }
    if (chunk.choices !== undefined && chunk.choices !== null) {
      if (!Array.isArray(chunk.choices)) throw new Error('choices is not an array');
      for (const c of chunk.choices) this.readChoice(c, parts);
    }
    if (chunk.usage !== undefined && chunk.usage !== null) {
      const usage = canonicalUsageFromOpenAI(chunk.usage);
      if (!usage) throw new Error('usage is not a usage object');
      parts.push({ type: 'usage', usage });
    }
    return parts;
  }

  /**
   * The parts of a first, finish or usage chunk as OpenAI writes it (OPENAI_METERED_CHUNK), without
   * JSON.parse: what read() makes of the same chunk parsed whole. Undefined for anything else.
   */
  private readMeteredChunk(data: string): CanonicalStreamPart[] | undefined {
    const m = OPENAI_METERED_CHUNK.exec(data);
    if (m === null) return undefined;
    const parts: CanonicalStreamPart[] = [];
    if (!this.metadataSent) {
      // Azure's opening chunk names neither id nor model: read whole, as it comes.
      if (m[1]!.length === 2 || m[3]!.length === 2) return undefined;
      this.metadataSent = true;
      parts.push({ type: 'response-metadata', id: jsonStringValue(m[1]!), model: jsonStringValue(m[3]!), created: Number(m[2]) });
    }
    if (m[6] !== undefined) {
      const usage = canonicalUsageFromOpenAI(JSON.parse(m[6]));
      if (!usage) throw new Error('usage is not a usage object');
      parts.push({ type: 'usage', usage });
    } else if (m[5] !== 'null') {
      const finish = jsonStringValue(m[5]!);
      if (finish) parts.push({ type: 'finish', choice: Number(m[4]), reason: finishReasonFromOpenAI(finish), rawReason: finish });
    }
    return parts;
  }

  private readChoice(c: unknown, parts: CanonicalStreamPart[]): void {
    if (!isRecord(c)) throw new Error('a choice is not an object');
    const choice = typeof c.index === 'number' ? c.index : 0;
    if (c.delta !== undefined && c.delta !== null) {
      if (!isRecord(c.delta)) throw new Error('a delta is not an object');
      const d = c.delta;
      const reasoning = text(d.reasoning_content, 'delta.reasoning_content') ?? text(d.reasoning, 'delta.reasoning');
      if (reasoning) parts.push({ type: 'reasoning-delta', choice, text: reasoning });
      const content = text(d.content, 'delta.content');
      if (content) parts.push({ type: 'text-delta', choice, text: content });
      const refusal = text(d.refusal, 'delta.refusal');
      if (refusal) parts.push({ type: 'text-delta', choice, text: refusal });
      if (d.tool_calls !== undefined && d.tool_calls !== null) {
        if (!Array.isArray(d.tool_calls)) throw new Error('delta.tool_calls is not an array');
        for (const [position, t] of d.tool_calls.entries()) {
          if (!isRecord(t)) throw new Error('a tool call delta is not an object');
          const index = typeof t.index === 'number' ? t.index : position;
          const fn = isRecord(t.function) ? t.function : {};
          const key = `${choice}:${index}`;
          if (!this.startedTools.has(key)) {
            this.startedTools.add(key);
            parts.push({ type: 'tool-call-start', choice, index, id: text(t.id, 'tool_calls[].id') ?? `call_${choice}_${index}`, name: text(fn.name, 'function.name') ?? '' });
          }
          const args = text(fn.arguments, 'function.arguments');
          if (args) parts.push({ type: 'tool-call-delta', choice, index, inputDelta: args });
        }
      }
    }
    const finish = text(c.finish_reason, 'finish_reason');
    if (finish) parts.push({ type: 'finish', choice, reason: finishReasonFromOpenAI(finish), rawReason: finish });
  }
}

/** A decoder for an OpenAI-format chat stream (SSE, `data: {...}` events ending with `data: [DONE]`). */
export function createOpenAIChatStreamDecoder(options?: StreamDecoderOptions): StreamDecoder {
  return createSseStreamDecoder(new OpenAIChatStreamReader(options?.meteringOnly === true), options);
}

/** The OpenAI error body for an adapter error (in a stream or as a whole answer). */
export function openAIErrorBody(error: AdapterError): OpenAIErrorBody {
  const clientFixable = error.kind === 'bad_request' || error.kind === 'context_length' || error.kind === 'content_filter';
  return { error: { message: error.message, type: clientFixable ? 'invalid_request_error' : 'server_error', param: null, code: error.kind } };
}

export interface OpenAIChunkContext {
  fallbackId: string;
  /** Unix seconds. */
  now: number;
  model: string;
  /** The client asked for stream_options.include_usage. */
  includeUsage: boolean;
}

/**
 * Canonical stream parts -> OpenAI chat.completion.chunk events for a client, ending with the usage
 * chunk (when asked for) and `[DONE]`, or with an error event (no `[DONE]`, so no client takes a
 * broken stream for a complete one). Reasoning has no place in this format and is left out.
 */
export class OpenAIChatChunkEncoder {
  private id: string;
  private model: string;
  private created: number;
  private usage: OpenAIUsage | undefined;
  private readonly roleSent = new Set<number>();
  private closed = false;
  /** `{"id":..,"object":..,"created":..,"model":..,"choices":[{"index":` of the chunks, while id, created and model stay. */
  private chunkPrefix: string | undefined;

  constructor(private readonly ctx: OpenAIChunkContext) {
    this.id = ctx.fallbackId;
    this.model = ctx.model;
    this.created = ctx.now;
  }

  push(part: CanonicalStreamPart): OutgoingSseEvent<OpenAIChatChunk | OpenAIErrorBody>[] {
    if (this.closed) return [];
    switch (part.type) {
      case 'response-metadata':
        if (part.id) this.id = part.id;
        if (part.model) this.model = part.model;
        if (part.created !== undefined) this.created = part.created;
        this.chunkPrefix = undefined;
        return [];
      case 'text-delta': {
        // The same text JSON.stringify makes of the chunk, from the cached prefix (no chunk object).
        const role = this.role(part.choice);
        this.chunkPrefix ??= this.prefix();
        return [new JsonSseEvent<OpenAIChatChunk>(`${this.chunkPrefix}${part.choice},"delta":{${role}"content":${JSON.stringify(part.text)}},"finish_reason":null}]}`)];
      }
      case 'tool-call-start':
        return [this.chunk(part.choice, { tool_calls: [{ index: part.index, id: part.id, type: 'function', function: { name: part.name, arguments: '' } }] })];
      case 'tool-call-delta':
        return [this.chunk(part.choice, { tool_calls: [{ index: part.index, function: { arguments: part.inputDelta } }] })];
      case 'finish': {
        // As the text delta: what JSON.stringify makes of the chunk (its delta empty but for a role not sent yet).
        const role = this.role(part.choice);
        this.chunkPrefix ??= this.prefix();
        return [new JsonSseEvent<OpenAIChatChunk>(`${this.chunkPrefix}${part.choice},"delta":{${role.slice(0, -1)}},"finish_reason":${JSON.stringify(openAIFinishReason(part.reason))}}]}`)];
      }
      case 'usage':
        this.usage = openAIUsageFromCanonical(part.usage);
        return [];
      case 'error':
        this.closed = true;
        return [{ data: openAIErrorBody(part.error) }];
      case 'reasoning-delta':
      case 'reasoning-signature':
      case 'redacted-reasoning':
        return [];
    }
  }

  /**
   * push() as SSE text, ready to write (formatSseEvent of each event): a content delta (most of a
   * translated stream) is written from the cached prefix without an event object or an array.
   */
  pushText(part: CanonicalStreamPart): string {
    if (part.type === 'text-delta' && !this.closed && this.roleSent.has(part.choice)) {
      this.chunkPrefix ??= this.prefix();
      return `data: ${this.chunkPrefix}${part.choice},"delta":{"content":${JSON.stringify(part.text)}},"finish_reason":null}]}\n\n`;
    }
    let text = '';
    for (const e of this.push(part)) text += formatSseEvent(e);
    return text;
  }

  end(): OutgoingSseEvent<OpenAIChatChunk | OpenAIErrorBody>[] {
    if (this.closed) return [];
    this.closed = true;
    const out: OutgoingSseEvent<OpenAIChatChunk>[] = [];
    if (this.ctx.includeUsage && this.usage) out.push({ data: { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage: this.usage } });
    out.push({ data: '[DONE]' });
    return out;
  }

  /** The role member (`"role":"assistant",`) of a choice's first chunk, empty for its later ones. */
  private role(choice: number): string {
    if (this.roleSent.has(choice)) return '';
    this.roleSent.add(choice);
    return '"role":"assistant",';
  }

  private prefix(): string {
    return `{"id":${JSON.stringify(this.id)},"object":"chat.completion.chunk","created":${JSON.stringify(this.created)},"model":${JSON.stringify(this.model)},"choices":[{"index":`;
  }

  private chunk(choice: number, delta: OpenAIChatChunk['choices'][number]['delta'], finish: OpenAIChatChunk['choices'][number]['finish_reason'] = null): OutgoingSseEvent<OpenAIChatChunk> {
    if (!this.roleSent.has(choice)) {
      this.roleSent.add(choice);
      delta = { role: 'assistant', ...delta };
    }
    return { data: { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index: choice, delta, finish_reason: finish }] } };
  }
}
