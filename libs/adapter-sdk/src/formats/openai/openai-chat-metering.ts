import type { CanonicalUsage } from '../../adapter.js';
import type { ChatChoice, ChatResponse } from '../../canonical.js';
import { JsonSkim, jsonKey, knownTexts, readMembers } from '../json-skim.js';
import { canonicalUsageFromOpenAI, finishReasonFromOpenAI } from './openai-usage.js';

/** The members read, by their index in the lists JsonSkim.member looks them up in. */
const [CHOICES, USAGE, ID, MODEL] = [0, 1, 2, 3];
const TOP_MEMBERS = ['choices', 'usage', 'id', 'model'].map(jsonKey);
const [MESSAGE, FINISH_REASON, INDEX] = [0, 1, 2];
const CHOICE_MEMBERS = ['message', 'finish_reason', 'index'].map(jsonKey);
const TOOL_CALLS = 0;
const MESSAGE_MEMBERS = ['tool_calls'].map(jsonKey);

/** Nesting a body may have below its choices' messages before the skim gives up (and the whole parse decides). */
const MAX_DEPTH = 64;

/**
 * What metering reads of a chat.completion body that passes through untouched: its id, model, usage
 * and each choice's index and finish reason, as chatResponseFromOpenAI would read them, without
 * building the rest (the messages' content stays unread: choices come back with no content). The
 * whole body's syntax is checked on the way (JsonSkim), and only what is read is built.
 *
 * Undefined whenever the answer is not plainly right: not JSON, choices missing or not an array, a
 * choice without a message object, a message with tool calls (their shape is checked by the whole
 * parse), a key written with escapes, a repeated choices or message key, deep nesting. The caller then
 * parses the whole body, which decides (and names the error) exactly as before.
 */
export function chatMeteringFromOpenAI(body: Uint8Array): ChatResponse | undefined {
  const s = new JsonSkim(Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  if (s.next() !== 123) return undefined;
  s.pos++;
  let id: string | undefined;
  let model: string | undefined;
  let usage: CanonicalUsage | undefined;
  let choices: ChatChoice[] | undefined;
  let c = s.next();
  if (c === 125) return undefined;
  for (;;) {
    if (c !== 34) return undefined;
    const member = s.member(TOP_MEMBERS);
    if (member === -2 || !s.colon()) return undefined;
    const v = s.bytes[s.pos];
    if (member === CHOICES) {
      if (choices || v !== 91) return undefined;
      choices = readChoices(s);
      if (!choices) return undefined;
    } else if (member === USAGE) {
      // The counts are read here, and read into usage by the whole parse's own function (cached,
      // reasoning, audio tokens...): the same function reads the same numbers.
      if (v === 123) {
        const members = readMembers(s, USAGE_KEYS, USAGE_DETAILS);
        if (!members) return undefined;
        usage = canonicalUsageFromOpenAI(openAIUsageOf(members));
      } else {
        if (!s.value(MAX_DEPTH)) return undefined;
        usage = undefined;
      }
    } else if (member === ID || member === MODEL) {
      let text: string | undefined;
      if (v === 34) {
        text = s.text();
        if (text === undefined) return undefined;
      } else if (!s.value(MAX_DEPTH)) return undefined;
      if (member === ID) id = text;
      else model = text;
    } else if (!s.value(MAX_DEPTH)) return undefined;
    c = s.next();
    s.pos++;
    if (c === 125) break;
    if (c !== 44) return undefined;
    c = s.next();
  }
  if (s.next() !== -1 || !choices) return undefined;
  const res: ChatResponse = { choices };
  if (id !== undefined) res.id = id;
  if (model !== undefined) res.model = model;
  if (usage) res.usage = usage;
  return res;
}

/**
 * The members of OpenAI's usage object canonicalUsageFromOpenAI reads (its spec checks it reads no
 * other), in the order openAIUsageOf puts them back.
 */
export const USAGE_MEMBERS: readonly string[] = ['prompt_tokens', 'completion_tokens', 'prompt_tokens_details', 'completion_tokens_details'];
export const PROMPT_DETAIL_MEMBERS: readonly string[] = ['cached_tokens', 'cache_write_tokens', 'audio_tokens'];
export const COMPLETION_DETAIL_MEMBERS: readonly string[] = ['reasoning_tokens', 'audio_tokens', 'accepted_prediction_tokens', 'rejected_prediction_tokens'];
const USAGE_KEYS = USAGE_MEMBERS.map(jsonKey);
const USAGE_DETAILS: ReadonlyArray<readonly Uint8Array[] | undefined> = [undefined, undefined, PROMPT_DETAIL_MEMBERS.map(jsonKey), COMPLETION_DETAIL_MEMBERS.map(jsonKey)];

/** The usage object of what readMembers read: what canonicalUsageFromOpenAI reads of it, nothing else. */
function openAIUsageOf(v: unknown[]): Record<string, unknown> {
  const p = v[2] as unknown[] | undefined;
  const c = v[3] as unknown[] | undefined;
  return {
    prompt_tokens: v[0],
    completion_tokens: v[1],
    prompt_tokens_details: p && { cached_tokens: p[0], cache_write_tokens: p[1], audio_tokens: p[2] },
    completion_tokens_details: c && { reasoning_tokens: c[0], audio_tokens: c[1], accepted_prediction_tokens: c[2], rejected_prediction_tokens: c[3] },
  };
}

/** OpenAI's finish reasons, read without a new string each time. */
const FINISH_REASONS = knownTexts(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']);

/** At the choices' `[`: each choice's index and finish reason, past the array; undefined when unsure. */
function readChoices(s: JsonSkim): ChatChoice[] | undefined {
  const choices: ChatChoice[] = [];
  s.pos++;
  let c = s.next();
  if (c === 93) {
    s.pos++;
    return choices;
  }
  for (;;) {
    if (c !== 123) return undefined;
    const choice = readChoice(s, choices.length);
    if (!choice) return undefined;
    choices.push(choice);
    c = s.next();
    s.pos++;
    if (c === 93) return choices;
    if (c !== 44) return undefined;
    c = s.next();
  }
}

/** At a choice's `{`: its index and finish reason (as chatResponseFromOpenAI reads them), past it. */
function readChoice(s: JsonSkim, i: number): ChatChoice | undefined {
  s.pos++;
  let index: number | undefined;
  let raw: string | undefined;
  let message = false;
  let c = s.next();
  if (c === 125) return undefined;
  for (;;) {
    if (c !== 34) return undefined;
    const member = s.member(CHOICE_MEMBERS);
    if (member === -2 || !s.colon()) return undefined;
    const v = s.bytes[s.pos];
    if (member === MESSAGE) {
      if (message || v !== 123 || !readMessage(s)) return undefined;
      message = true;
    } else if (member === FINISH_REASON) {
      if (v === 34) {
        raw = s.text(FINISH_REASONS);
        if (raw === undefined) return undefined;
      } else {
        raw = undefined;
        if (!s.value(MAX_DEPTH)) return undefined;
      }
    } else if (member === INDEX) {
      const start = s.pos;
      if (!s.value(MAX_DEPTH)) return undefined;
      index = v === 45 || (v !== undefined && v >= 48 && v <= 57) ? Number(s.bytes.toString('latin1', start, s.pos)) : undefined;
    } else if (!s.value(MAX_DEPTH)) return undefined;
    c = s.next();
    s.pos++;
    if (c === 125) break;
    if (c !== 44) return undefined;
    c = s.next();
  }
  if (!message) return undefined;
  const choice: ChatChoice = { index: index ?? i, content: [], finishReason: raw ? finishReasonFromOpenAI(raw) : 'other' };
  if (raw) choice.rawFinishReason = raw;
  return choice;
}

/** At a message's `{`: past it; false when it has tool calls (left to the whole parse, which checks them) or is not JSON. */
function readMessage(s: JsonSkim): boolean {
  s.pos++;
  let c = s.next();
  if (c === 125) {
    s.pos++;
    return true;
  }
  for (;;) {
    if (c !== 34) return false;
    const member = s.member(MESSAGE_MEMBERS);
    if (member === -2 || !s.colon()) return false;
    if (member === TOOL_CALLS && s.bytes[s.pos] !== 110 /* null */) return false;
    if (!s.value(MAX_DEPTH)) return false;
    c = s.next();
    s.pos++;
    if (c === 125) return true;
    if (c !== 44) return false;
    c = s.next();
  }
}
