/**
 * Bounds on a JSON text's shape, checked on its bytes BEFORE anything parses or walks it:
 * JSON.parse itself is iterative, but everything after it that recurses (schema validation,
 * JSON.stringify, a request logger) overflows the stack on a body nested 10,000 deep, and a body
 * of a million tiny objects costs ~90 bytes of heap per byte-sized element.
 */
export interface JsonLimits {
  /** Deepest nesting of arrays and objects (the top-level value is depth 1). */
  maxDepth: number;
  /** Most items in any one array. */
  maxArrayItems: number;
  /** Most keys in any one object. */
  maxObjectKeys: number;
}

export type JsonLimitName = 'depth' | 'array_items' | 'object_keys';

export interface JsonLimitViolation {
  limit: JsonLimitName;
  max: number;
  /** A sentence for the caller, naming the limit. */
  message: string;
}

const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Bytes of a string read one by one before jumping to its next quote with indexOf. */
const SHORT_STRETCH = 64;

/**
 * The first limit `json` exceeds, or undefined when it exceeds none. Cheap first: n items need at
 * least 2n-1 bytes, so a body shorter than that cannot exceed an item or key limit, and nesting
 * needs an opening bracket per level, so counting '[' and '{' with the native Buffer.indexOf
 * (stopping as soon as the count passes the limit) decides the depth of a typical body without
 * looking at each byte. Only when that cannot decide does the exact, linear, non-recursive scan
 * run: it skips strings (brackets and commas inside them do not count; strings are skipped with
 * indexOf too, so a large base64 image costs little) and stops at the first violation.
 * Invalid JSON is not this function's concern: JSON.parse refuses it afterwards.
 */
export function findJsonLimitViolation(json: Buffer, limits: JsonLimits): JsonLimitViolation | undefined {
  const maxItems = Math.min(limits.maxArrayItems, limits.maxObjectKeys);
  if (json.length <= 2 * maxItems - 1 && countUpTo(json, OPEN_ARRAY, limits.maxDepth) + countUpTo(json, OPEN_OBJECT, limits.maxDepth) <= limits.maxDepth) {
    return undefined;
  }
  return scanExactly(json, limits);
}

/** How often `byte` occurs in `buf`, counting no further than limit + 1. */
function countUpTo(buf: Buffer, byte: number, limit: number): number {
  let count = 0;
  let at = buf.indexOf(byte);
  while (at !== -1 && count <= limit) {
    count++;
    at = buf.indexOf(byte, at + 1);
  }
  return count;
}

function scanExactly(json: Buffer, limits: JsonLimits): JsonLimitViolation | undefined {
  // One entry per open container: its kind and the commas seen directly in it (items - 1).
  const isArray = new Uint8Array(limits.maxDepth + 1);
  const commas = new Float64Array(limits.maxDepth + 1);
  let depth = 0;
  const end = json.length;
  for (let i = 0; i < end; i++) {
    const c = json[i]!;
    if (c === QUOTE) {
      i = endOfString(json, i + 1);
      if (i === -1) return undefined; // unterminated: not JSON, JSON.parse will say so
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (depth === limits.maxDepth) return violation('depth', limits.maxDepth);
      isArray[depth] = c === OPEN_ARRAY ? 1 : 0;
      commas[depth] = 0;
      depth++;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (depth > 0) depth--;
    } else if (c === COMMA && depth > 0) {
      const n = ++commas[depth - 1]!;
      // n commas separate n + 1 items
      if (isArray[depth - 1] === 1) {
        if (n >= limits.maxArrayItems) return violation('array_items', limits.maxArrayItems);
      } else if (n >= limits.maxObjectKeys) return violation('object_keys', limits.maxObjectKeys);
    }
  }
  return undefined;
}

/**
 * The index of the quote closing a string whose content starts at `from`, or -1. Prose (escaped
 * quotes every few bytes) is read byte by byte, a long stretch without a quote (a base64 image)
 * is jumped with the native indexOf: each alone is slow on the other's input.
 */
function endOfString(json: Buffer, from: number): number {
  const end = json.length;
  let i = from;
  for (;;) {
    const stop = Math.min(end, i + SHORT_STRETCH);
    for (; i < stop; i++) {
      const c = json[i]!;
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) return i;
    }
    if (i >= end) return -1;
    // i is not inside an escape here: the next quote closes the string unless an odd run of backslashes precedes it.
    const quote = json.indexOf(QUOTE, i);
    if (quote === -1) return -1;
    let backslashes = 0;
    for (let j = quote - 1; j >= i && json[j] === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    i = quote + 1;
  }
}

function violation(limit: JsonLimitName, max: number): JsonLimitViolation {
  const message =
    limit === 'depth'
      ? `The JSON body is nested deeper than ${max} levels.`
      : limit === 'array_items'
        ? `A JSON array in the body has more than ${max} items.`
        : `A JSON object in the body has more than ${max} keys.`;
  return { limit, max, message };
}
