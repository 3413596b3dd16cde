/**
 * A JSON reader over bytes that checks a whole document's syntax without building it, for the
 * pass-through path: there the body goes to the client as it came, and metering needs a few of its
 * fields only. It accepts exactly what JSON.parse of the body's UTF-8 text accepts, or less (a
 * caller that gets `false` parses the whole body): the structural characters are ASCII, and UTF-8
 * decoding maps an ASCII byte to itself even after an invalid sequence, so checking bytes is checking
 * the text. Strings are checked for what JSON forbids in them (raw control characters, unknown
 * escapes); non-ASCII bytes in them are left to the decoder, as JSON.parse leaves them. Nothing is
 * built but what a caller asks for (text(), numberValue()).
 */
export class JsonSkim {
  pos = 0;
  /** Set by string(): whether the string just read had an escape (its text is not its bytes). */
  escaped = false;

  constructor(readonly bytes: Buffer) {}

  /** Skips JSON whitespace; the byte there, or -1 at the end. */
  next(): number {
    const b = this.bytes;
    let i = this.pos;
    for (; i < b.length; i++) {
      const c = b[i];
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) {
        this.pos = i;
        return c;
      }
    }
    this.pos = i;
    return -1;
  }

  /** At a `"`: moves past the string's closing quote; false when the string is not valid JSON. */
  string(): boolean {
    const b = this.bytes;
    const n = b.length;
    let escaped = false;
    let i = this.pos + 1;
    for (;;) {
      // Most bytes are plain: three comparisons each.
      for (let c = b[i]; i < n && c >= 32 && c !== 34 && c !== 92; c = b[++i]);
      if (i >= n) return false;
      const c = b[i];
      if (c === 34) {
        this.pos = i + 1;
        this.escaped = escaped;
        return true;
      }
      if (c !== 92) return false; // a raw control character
      escaped = true;
      const e = b[i + 1];
      if (e === 117 /* u */) {
        if (!isHex(b[i + 2]) || !isHex(b[i + 3]) || !isHex(b[i + 4]) || !isHex(b[i + 5])) return false;
        i += 6;
      } else if (e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) i += 2;
      else return false;
    }
  }

  /** At a value's first byte: moves past the value; false when it is not valid JSON (or nests deeper than `depth` allows). */
  value(depth: number): boolean {
    const c = this.bytes[this.pos];
    if (c === 34) return this.string();
    if (c === 123) return this.object(depth);
    if (c === 91) return this.array(depth);
    if (c === 116) return this.literal(TRUE);
    if (c === 102) return this.literal(FALSE);
    if (c === 110) return this.literal(NULL);
    return this.number();
  }

  /** At a `{`: moves past the object. Member by member with member() when the caller wants to see keys. */
  object(depth: number): boolean {
    if (depth <= 0) return false;
    this.pos++;
    let c = this.next();
    if (c === 125) {
      this.pos++;
      return true;
    }
    for (;;) {
      if (c !== 34 || !this.string() || !this.colon() || !this.value(depth - 1)) return false;
      c = this.next();
      this.pos++;
      if (c === 125) return true;
      if (c !== 44) return false;
      c = this.next();
    }
  }

  /** At a `[`: moves past the array. */
  array(depth: number): boolean {
    if (depth <= 0) return false;
    this.pos++;
    let c = this.next();
    if (c === 93) {
      this.pos++;
      return true;
    }
    for (;;) {
      if (c === -1 || !this.value(depth - 1)) return false;
      c = this.next();
      this.pos++;
      if (c === 93) return true;
      if (c !== 44) return false;
      c = this.next();
    }
  }

  /** After a key: moves past the `:` and the whitespace after it; false when there is no `:`. */
  colon(): boolean {
    if (this.next() !== 58) return false;
    this.pos++;
    this.next();
    return true;
  }

  /**
   * At a key's `"`: which of `names` it is (its index), -1 for another key, -2 when the key is not
   * valid JSON or is written with escapes (it might then be one of them). Moves past the key. A
   * name's bytes followed by a quote are that name (a name has no quote or backslash to escape).
   */
  member(names: readonly Uint8Array[]): number {
    const b = this.bytes;
    const start = this.pos + 1;
    for (let n = 0; n < names.length; n++) {
      const name = names[n];
      const end = start + name.length;
      if (b[end] !== 34) continue;
      let i = 0;
      while (i < name.length && b[start + i] === name[i]) i++;
      if (i === name.length) {
        this.pos = end + 1;
        this.escaped = false;
        return n;
      }
    }
    return this.string() && !this.escaped ? -1 : -2;
  }

  /** Whether the bytes from `start` to `end` are `key`'s (a key read with string(), quotes excluded; keys made with jsonKey()). */
  is(start: number, end: number, key: Uint8Array): boolean {
    if (end - start !== key.length) return false;
    const b = this.bytes;
    for (let i = 0; i < key.length; i++) if (b[start + i] !== key[i]) return false;
    return true;
  }

  /**
   * At a `"`: the string's text, moving past it; undefined when the string is not valid JSON.
   * `known`: texts given back as they are when the string's bytes are one of theirs (no new string).
   */
  text(known?: KnownTexts): string | undefined {
    const start = this.pos;
    if (!this.string()) return undefined;
    if (known) for (let i = 0; i < known.bytes.length; i++) if (this.is(start + 1, this.pos - 1, known.bytes[i])) return known.texts[i];
    if (!this.escaped && isAscii(this.bytes, start + 1, this.pos - 1)) return this.bytes.toString('latin1', start + 1, this.pos - 1);
    return JSON.parse(this.bytes.toString('utf8', start, this.pos)) as string;
  }

  /** At a number's first byte: its value, moving past it; undefined when it is not a JSON number. */
  numberValue(): number | undefined {
    const start = this.pos;
    if (!this.number()) return undefined;
    const b = this.bytes;
    // A short integer (every token count) is summed here; anything else is read as JSON.parse would.
    if (this.pos - start > 15) return Number(b.toString('latin1', start, this.pos));
    let v = 0;
    for (let i = start; i < this.pos; i++) {
      const c = b[i];
      if (c < 48 || c > 57) return Number(b.toString('latin1', start, this.pos));
      v = v * 10 + (c - 48);
    }
    return v;
  }

  private literal(word: Uint8Array): boolean {
    const b = this.bytes;
    const at = this.pos;
    for (let i = 0; i < word.length; i++) if (b[at + i] !== word[i]) return false;
    this.pos = at + word.length;
    return true;
  }

  /** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
  private number(): boolean {
    const b = this.bytes;
    let i = this.pos;
    if (b[i] === 45) i++;
    if (b[i] === 48) i++;
    else if (isDigit(b[i])) while (isDigit(b[i])) i++;
    else return false;
    if (b[i] === 46) {
      i++;
      if (!isDigit(b[i])) return false;
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 101 || b[i] === 69) {
      i++;
      if (b[i] === 43 || b[i] === 45) i++;
      if (!isDigit(b[i])) return false;
      while (isDigit(b[i])) i++;
    }
    this.pos = i;
    return true;
  }
}

/**
 * At an object's `{`: the values of its members `names`, by position (an array: no object of
 * changing shape to build), past the object. A member holding a number has it (the value JSON.parse
 * would give); one with `nested` names holding an object has that object's values, read the same
 * way; one holding anything else, or absent, is undefined, which reads as its absence does (the last
 * one counts, as in JSON.parse). Undefined when unsure (a key written with escapes) or not JSON.
 */
export function readMembers(s: JsonSkim, names: readonly Uint8Array[], nested?: ReadonlyArray<readonly Uint8Array[] | undefined>): unknown[] | undefined {
  const values: unknown[] = names.map(() => undefined);
  s.pos++;
  let c = s.next();
  if (c === 125) {
    s.pos++;
    return values;
  }
  for (;;) {
    if (c !== 34) return undefined;
    const at = s.member(names);
    if (at === -2 || !s.colon()) return undefined;
    const v = s.bytes[s.pos];
    const inner = at === -1 ? undefined : nested?.[at];
    if (at !== -1 && inner === undefined && (v === 45 || (v >= 48 && v <= 57))) {
      const n = s.numberValue();
      if (n === undefined) return undefined;
      values[at] = n;
    } else if (inner !== undefined && v === 123) {
      const members = readMembers(s, inner);
      if (!members) return undefined;
      values[at] = members;
    } else {
      if (!s.value(SKIM_DEPTH)) return undefined;
      if (at !== -1) values[at] = undefined;
    }
    c = s.next();
    s.pos++;
    if (c === 125) return values;
    if (c !== 44) return undefined;
    c = s.next();
  }
}

/** How deep readMembers lets a skipped value nest before it gives up. */
const SKIM_DEPTH = 64;

/** Bytes to compare keys with (JsonSkim.is): comparing bytes with bytes is what keeps the comparison cheap. */
export function jsonKey(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/** Strings JsonSkim.text gives back without making a new one. */
export interface KnownTexts {
  texts: readonly string[];
  bytes: readonly Uint8Array[];
}

export function knownTexts(texts: readonly string[]): KnownTexts {
  return { texts, bytes: texts.map(jsonKey) };
}

function isAscii(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] > 127) return false;
  return true;
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 48 && c <= 57;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102));
}
