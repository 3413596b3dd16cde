import type { CallWarning, Decoded } from '../../adapter-v2.js';
import type { EmbeddingRequest, EmbeddingResponse } from '../../canonical.js';
import { adapterError, bodySnippet, isRecord, jsonOrUndefined, tokenCount } from '../../error-helpers.js';
import type { CanonicalUsage } from '../../adapter.js';
import { JsonSkim, jsonKey, readMembers } from '../json-skim.js';
import { decodeClientRequest, InvalidClientRequest, WarningSink, type ClientRequestDecoded } from '../client-request.js';

/** https://platform.openai.com/docs/api-reference/embeddings */
export function openAIEmbeddingRequestFromCanonical(req: EmbeddingRequest, options: { model: string }): { body: Record<string, unknown>; warnings: CallWarning[] } {
  const sink = new WarningSink();
  sink.foreignOptions(req.providerOptions, 'openai');
  // Canonical vectors are numbers: ask for floats whatever the client asked; its writer encodes.
  const body: Record<string, unknown> = { ...(req.providerOptions?.openai ?? {}), model: options.model, input: req.input, encoding_format: 'float' };
  if (req.dimensions !== undefined) body.dimensions = req.dimensions;
  if (req.user !== undefined) body.user = req.user;
  return { body, warnings: sink.warnings };
}

/** A base64 embedding: little-endian float32s, as OpenAI sends them for encoding_format=base64. */
export function floatsFromBase64(b64: string): number[] {
  const bytes = Buffer.from(b64, 'base64');
  const out: number[] = [];
  for (let i = 0; i + 4 <= bytes.length; i += 4) out.push(bytes.readFloatLE(i));
  return out;
}

export function base64FromFloats(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
}

/**
 * The answer without the contents of its vectors (`"embedding":[...]` becomes `"embedding":[]`, a
 * base64 `"embedding":"..."` becomes `"embedding":""`), for metering-only reads: JSON.parse of 1536
 * floats per vector (~33 KB) cost the gateway more than the whole proxying of the answer, and of an
 * ~8 KB base64 string (with its UTF-8 decoding) a third of it. A vector's end is found with indexOf
 * (no per-character loop). Only a key `"embedding"` followed by `:` and `[` or `"` is cut; undefined
 * when there is none, or when the result is not JSON (an array that held something other than
 * numbers): the caller parses it all.
 */
function withoutVectors(body: Uint8Array): unknown {
  // Searched as bytes (no string of the whole answer): only the pieces kept become text.
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let at = bytes.indexOf(EMBEDDING_KEY);
  if (at === -1) return undefined;
  let out = '';
  let from = 0;
  let escape = -2;
  while (at !== -1) {
    let i = at + EMBEDDING_KEY.length;
    while (isJsonSpace(bytes[i])) i++;
    if (bytes[i] === 58 /* : */ && bytes[at - 1] !== 92 /* \ */) {
      i++;
      while (isJsonSpace(bytes[i])) i++;
      const open = bytes[i];
      if (open === 91 /* [ */ || open === 34 /* " */) {
        // A float array ends at its `]`; a base64 string at its closing quote (base64 has no escapes:
        // a string with a backslash before that quote is left to the whole parse).
        const close = bytes.indexOf(open === 91 ? 93 /* ] */ : 34, i + 1);
        if (close === -1) return undefined;
        if (open === 34) {
          // The next backslash, searched again only once it is behind (one pass over many vectors).
          if (escape !== -1 && escape <= i) escape = bytes.indexOf(92 /* \\ */, i + 1);
          if (escape !== -1 && escape < close) return undefined;
        }
        // Cut at ASCII characters only, so the pieces are whole UTF-8.
        out += bytes.toString('utf8', from, i + 1);
        from = close;
        at = bytes.indexOf(EMBEDDING_KEY, close + 1);
        continue;
      }
    }
    at = bytes.indexOf(EMBEDDING_KEY, i);
  }
  if (from === 0) return undefined;
  out += bytes.toString('utf8', from);
  try {
    return JSON.parse(out);
  } catch {
    return undefined;
  }
}

const EMBEDDING_KEY = Buffer.from('"embedding"', 'latin1');

function isJsonSpace(c: number | undefined): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** The members read, by their index in the lists JsonSkim.member looks them up in. */
const [DATA, MODEL, USAGE] = [0, 1, 2];
const TOP_MEMBERS = ['data', 'model', 'usage'].map(jsonKey);
const EMBEDDING = 0;
const ENTRY_MEMBERS = ['embedding'].map(jsonKey);
const USAGE_KEYS = [jsonKey('prompt_tokens')];
const SKIM_DEPTH = 64;

/**
 * What metering reads of an embedding list that passes through untouched (its model and input
 * tokens), as the whole parse reads them, with JsonSkim: the body's syntax is checked on the way but
 * for the vectors, which are skipped as withoutVectors skips them (a float array to its `]`, a base64
 * string to its closing quote, unsure when it holds a backslash). JSON.parse of even the answer
 * without its vectors cost more than all the rest of this reading. Undefined when unsure (no data
 * array, a key written with escapes, a repeated data key): the caller reads the body otherwise.
 */
export function embeddingMeteringFromOpenAI(body: Uint8Array): EmbeddingResponse | undefined {
  const s = new JsonSkim(Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  if (s.next() !== 123) return undefined;
  s.pos++;
  let model: string | undefined;
  let usage: CanonicalUsage | undefined;
  let data = false;
  let c = s.next();
  if (c === 125) return undefined;
  for (;;) {
    if (c !== 34) return undefined;
    const member = s.member(TOP_MEMBERS);
    if (member === -2 || !s.colon()) return undefined;
    const v = s.bytes[s.pos];
    if (member === DATA) {
      if (data || v !== 91 || !skipData(s)) return undefined;
      data = true;
    } else if (member === MODEL) {
      if (v === 34) {
        model = s.text();
        if (model === undefined) return undefined;
      } else {
        model = undefined;
        if (!s.value(SKIM_DEPTH)) return undefined;
      }
    } else if (member === USAGE) {
      if (v === 123) {
        const members = readMembers(s, USAGE_KEYS);
        if (!members) return undefined;
        usage = inputUsage(tokenCount(members[0]));
      } else {
        usage = undefined;
        if (!s.value(SKIM_DEPTH)) return undefined;
      }
    } else if (!s.value(SKIM_DEPTH)) return undefined;
    c = s.next();
    s.pos++;
    if (c === 125) break;
    if (c !== 44) return undefined;
    c = s.next();
  }
  if (s.next() !== -1 || !data) return undefined;
  const res: EmbeddingResponse = { embeddings: [] };
  if (model !== undefined) res.model = model;
  if (usage) res.usage = usage;
  return res;
}

/** At data's `[`: past it, each entry's `embedding` skipped unread; false when unsure or not JSON. */
function skipData(s: JsonSkim): boolean {
  s.pos++;
  let c = s.next();
  if (c === 93) {
    s.pos++;
    return true;
  }
  for (;;) {
    if (c === 123) {
      if (!skipEntry(s)) return false;
    } else if (c === -1 || !s.value(SKIM_DEPTH)) return false;
    c = s.next();
    s.pos++;
    if (c === 93) return true;
    if (c !== 44) return false;
    c = s.next();
  }
}

/** At an entry's `{`: past it, its vector jumped over with indexOf (thousands of floats, or kilobytes of base64). */
function skipEntry(s: JsonSkim): boolean {
  const b = s.bytes;
  s.pos++;
  let c = s.next();
  if (c === 125) {
    s.pos++;
    return true;
  }
  for (;;) {
    if (c !== 34) return false;
    const member = s.member(ENTRY_MEMBERS);
    if (member === -2 || !s.colon()) return false;
    const v = b[s.pos];
    if ((v === 34 || v === 91) && member === EMBEDDING) {
      const close = b.indexOf(v === 91 ? 93 /* ] */ : 34, s.pos + 1);
      if (close === -1) return false;
      if (v === 34) {
        const escape = b.indexOf(92 /* \ */, s.pos + 1);
        if (escape !== -1 && escape < close) return false;
      }
      s.pos = close + 1;
    } else if (!s.value(SKIM_DEPTH)) return false;
    c = s.next();
    s.pos++;
    if (c === 125) return true;
    if (c !== 44) return false;
    c = s.next();
  }
}

function inputUsage(input: number): CanonicalUsage {
  return { input: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 }, output: { total: 0, text: 0, reasoning: 0 }, extra: {} };
}

export function embeddingResponseFromOpenAI(body: Uint8Array, options: { meteringOnly?: boolean } = {}): Decoded<EmbeddingResponse> {
  if (options.meteringOnly) {
    const value = embeddingMeteringFromOpenAI(body);
    if (value) return { value };
  }
  const b = (options.meteringOnly ? withoutVectors(body) : undefined) ?? jsonOrUndefined(body);
  const malformed = (why: string) => ({ error: adapterError('upstream_error', `the upstream answered a malformed embedding list: ${why}`) });
  if (!isRecord(b) || !Array.isArray(b.data)) return malformed(bodySnippet(body));
  const rows: Array<{ index: number; vector: number[] }> = [];
  // Metering reads only model and usage: base64 vectors (thousands of floats each) stay undecoded.
  for (const [i, d] of (options.meteringOnly ? [] : b.data).entries()) {
    if (!isRecord(d)) return malformed(`data[${i}] is not an object`);
    const index = typeof d.index === 'number' ? d.index : i;
    if (typeof d.embedding === 'string') rows.push({ index, vector: floatsFromBase64(d.embedding) });
    else if (Array.isArray(d.embedding) && d.embedding.every((n) => typeof n === 'number')) rows.push({ index, vector: d.embedding as number[] });
    else return malformed(`data[${i}].embedding is neither numbers nor base64`);
  }
  rows.sort((a, b2) => a.index - b2.index);
  const res: EmbeddingResponse = { embeddings: rows.map((r) => r.vector) };
  if (typeof b.model === 'string') res.model = b.model;
  if (isRecord(b.usage)) res.usage = inputUsage(tokenCount(b.usage.prompt_tokens));
  return { value: res };
}

const EMBEDDING_MAPPED = new Set(['model', 'input', 'dimensions', 'user']);

/** A client's /v1/embeddings body -> canonical. encoding_format stays in providerOptions.openai for the writer. */
export function embeddingRequestFromOpenAI(body: unknown): ClientRequestDecoded<EmbeddingRequest> {
  return decodeClientRequest(() => {
    if (!isRecord(body)) throw new InvalidClientRequest('body', 'The request body must be a JSON object.');
    if (typeof body.model !== 'string') throw new InvalidClientRequest('model', 'model must be a string.');
    const i = body.input;
    const input = typeof i === 'string' ? [i] : Array.isArray(i) && i.every((x) => typeof x === 'string') ? (i as string[]) : undefined;
    if (input === undefined) throw new InvalidClientRequest('input', 'input must be a string or an array of strings here (token arrays reach only OpenAI-format upstreams).');
    const req: EmbeddingRequest = { model: body.model, input };
    if (typeof body.dimensions === 'number') req.dimensions = body.dimensions;
    if (typeof body.user === 'string') req.user = body.user;
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) if (!EMBEDDING_MAPPED.has(k)) rest[k] = v;
    if (Object.keys(rest).length > 0) req.providerOptions = { openai: rest };
    return req;
  });
}

export interface OpenAIEmbeddingList {
  object: 'list';
  model: string;
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** Canonical -> an embedding list for a client, as floats or as base64 float32 (what the `openai` client asks for by default). */
export function openAIEmbeddingListFromCanonical(res: EmbeddingResponse, ctx: { model: string; encoding: 'float' | 'base64' }): OpenAIEmbeddingList {
  const tokens = res.usage?.input.total ?? 0;
  return {
    object: 'list',
    model: res.model ?? ctx.model,
    data: res.embeddings.map((v, index) => ({ object: 'embedding', index, embedding: ctx.encoding === 'base64' ? base64FromFloats(v) : v })),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
