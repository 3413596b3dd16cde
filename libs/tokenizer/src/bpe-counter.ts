// This module runs on the token-count worker thread too, where Node loads it by itself (in tests,
// straight from this .ts file by stripping types): it imports nothing and uses only erasable
// TypeScript syntax (no parameter properties, enums or namespaces).

/** A tiktoken encoding's data as js-tiktoken ships it (`js-tiktoken/ranks/o200k_base`). */
export interface BpeRankData {
  /** The pre-tokenizer: a regular expression with Unicode property escapes. */
  pat_str: string;
  /** Lines of `<prefix> <first rank> <base64 token> <base64 token> ...`; ranks count up from the first. */
  bpe_ranks: string;
}

const NOT_FOUND = -1;
/** Pieces up to this many bytes merge by scanning their pairs; longer ones through a heap (n log n). */
const SCAN_MERGE_MAX_BYTES = 64;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** The heap's key is rank * 2^32 + position: both stay exact in a double. */
const POSITION_SPAN = 4294967296;

/**
 * Counts the tokens a tiktoken encoding (o200k_base, cl100k_base ...) makes of a text, in a few
 * megabytes: every token's bytes sit in one array, found through an open-addressing hash table.
 * js-tiktoken's own `Tiktoken` keeps a Map of comma-joined byte strings and a Uint8Array per rank
 * and allocates ~200 MB while it builds them for o200k_base, pages V8 then keeps for the life of
 * the process. The counts are js-tiktoken's (the spec compares them), merging byte pairs lowest
 * rank first, leftmost on a tie. Special tokens (`<|endoftext|>`) count as the ordinary text they
 * are spelled with, as in a chat message's content; a lone surrogate counts as U+FFFD, as
 * TextEncoder writes it.
 */
export class BpeCounter {
  private readonly tokenBytes: Uint8Array;
  /** Entry i's bytes are tokenBytes[entryStart[i], entryStart[i + 1]). */
  private readonly entryStart: Int32Array;
  private readonly entryRank: Int32Array;
  /** Slot -> entry index + 1; 0 is empty. */
  private readonly slots: Int32Array;
  private readonly slotMask: number;
  /** The pre-tokenizer anchored where the previous piece ended: `test` finds the next piece without allocating. */
  private readonly sticky: RegExp;
  /** The same, unanchored: finds the next piece after text the pre-tokenizer skips. */
  private readonly pattern: RegExp;
  private piece = new Uint8Array(4096);
  // Scratch of the merges, grown to the longest piece seen.
  private bounds = new Int32Array(256);
  private pairRanks = new Int32Array(256);
  private next = new Int32Array(256);
  private prev = new Int32Array(256);
  private heap = new Float64Array(256);

  constructor(data: BpeRankData) {
    this.sticky = new RegExp(data.pat_str, 'uy');
    this.pattern = new RegExp(data.pat_str, 'gu');
    const ranks = data.bpe_ranks;
    // First pass: how many tokens and how many bytes, so that the arrays are allocated once.
    let entries = 0;
    let bytes = 0;
    forEachToken(ranks, (from, to) => {
      entries++;
      bytes += base64Length(ranks, from, to);
    });
    this.tokenBytes = new Uint8Array(bytes);
    this.entryStart = new Int32Array(entries + 1);
    this.entryRank = new Int32Array(entries);
    let slotCount = 1;
    while (slotCount < entries * 2) slotCount <<= 1;
    this.slots = new Int32Array(slotCount);
    this.slotMask = slotCount - 1;
    let entry = 0;
    let at = 0;
    forEachToken(ranks, (from, to, rank) => {
      this.entryStart[entry] = at;
      this.entryRank[entry] = rank;
      at = decodeBase64(ranks, from, to, this.tokenBytes, at);
      this.insert(entry++, at);
    });
    this.entryStart[entry] = at;
    for (let b = 0; b < 256; b++) {
      this.piece[0] = b;
      if (this.rankOf(this.piece, 0, 1) === NOT_FOUND) throw new Error(`the encoding has no token for the byte ${b}`);
    }
  }

  /** The text's token count. */
  count(text: string): number {
    return this.countUpTo(text, Number.MAX_SAFE_INTEGER);
  }

  /**
   * The text's token count, or, once counting passes `limit`, the count so far (more than `limit`,
   * at most the whole count): a limit check stops there.
   */
  countUpTo(text: string, limit: number): number {
    // Pieces are found with `test` on the anchored pattern and encoded straight from the text: no
    // match array and no substring per piece. A 100 KB prompt has ~25,000 pieces, and that garbage
    // made the counting worker's young generation grow to its maximum (tens of MB of RSS).
    const sticky = this.sticky;
    let tokens = 0;
    for (let at = 0; at < text.length; ) {
      sticky.lastIndex = at;
      if (!sticky.test(text)) {
        // No piece starts here: go on where the next one starts, as a global search would.
        const pattern = this.pattern;
        pattern.lastIndex = at;
        const next = pattern.exec(text);
        if (next === null) break;
        at = next.index;
        continue;
      }
      const end = sticky.lastIndex;
      if (end === at) {
        at++;
        continue;
      }
      tokens += this.countPiece(this.encodePiece(text, at, end));
      if (tokens > limit) break;
      at = end;
    }
    return tokens;
  }

  /** Writes the UTF-8 bytes of text[from, to) into `this.piece` (a lone surrogate as U+FFFD, as TextEncoder does) and returns how many. */
  private encodePiece(text: string, from: number, to: number): number {
    if (this.piece.length < (to - from) * 3) this.piece = new Uint8Array((to - from) * 3);
    const piece = this.piece;
    let n = 0;
    for (let i = from; i < to; i++) {
      let c = text.charCodeAt(i);
      if (c < 0x80) {
        piece[n++] = c;
        continue;
      }
      if (c < 0x800) {
        piece[n++] = 0xc0 | (c >> 6);
        piece[n++] = 0x80 | (c & 0x3f);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const low = i + 1 < to ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          i++;
          piece[n++] = 0xf0 | (cp >> 18);
          piece[n++] = 0x80 | ((cp >> 12) & 0x3f);
          piece[n++] = 0x80 | ((cp >> 6) & 0x3f);
          piece[n++] = 0x80 | (cp & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      piece[n++] = 0xe0 | (c >> 12);
      piece[n++] = 0x80 | ((c >> 6) & 0x3f);
      piece[n++] = 0x80 | (c & 0x3f);
    }
    return n;
  }

  private countPiece(n: number): number {
    if (n === 1 || this.rankOf(this.piece, 0, n) !== NOT_FOUND) return 1;
    this.ensureScratch(n + 1);
    return n <= SCAN_MERGE_MAX_BYTES ? this.mergeByScan(n) : this.mergeByHeap(n);
  }

  /** Merges the pair of lowest rank (leftmost on a tie) until no pair has a rank; returns the parts. */
  private mergeByScan(n: number): number {
    const piece = this.piece;
    const bounds = this.bounds;
    const pairRanks = this.pairRanks;
    // Parts are piece[bounds[i], bounds[i + 1]); pairRanks[i] is the rank of parts i and i + 1 joined.
    for (let i = 0; i <= n; i++) bounds[i] = i;
    for (let i = 0; i < n - 1; i++) pairRanks[i] = this.rankOf(piece, i, i + 2);
    let parts = n;
    while (parts > 1) {
      let best = NOT_FOUND;
      let bestRank = 0;
      for (let i = 0; i < parts - 1; i++) {
        const r = pairRanks[i]!;
        if (r !== NOT_FOUND && (best === NOT_FOUND || r < bestRank)) {
          best = i;
          bestRank = r;
        }
      }
      if (best === NOT_FOUND) break;
      // Join parts best and best + 1: drop the boundary between them.
      bounds.copyWithin(best + 1, best + 2, parts + 1);
      pairRanks.copyWithin(best + 1, best + 2, parts - 1);
      parts--;
      if (best < parts - 1) pairRanks[best] = this.rankOf(piece, bounds[best]!, bounds[best + 2]!);
      if (best > 0) pairRanks[best - 1] = this.rankOf(piece, bounds[best - 1]!, bounds[best + 1]!);
    }
    return parts;
  }

  /**
   * The same merges as mergeByScan for a long piece: parts in a linked list keyed by their first
   * byte, candidate pairs in a min-heap of rank * 2^32 + position, stale candidates skipped.
   */
  private mergeByHeap(n: number): number {
    const piece = this.piece;
    const next = this.next;
    const prev = this.prev;
    const pairRanks = this.pairRanks;
    let size = 0;
    for (let i = 0; i < n; i++) {
      next[i] = i + 1; // n is the end
      prev[i] = i - 1;
      pairRanks[i] = i + 2 <= n ? this.rankOf(piece, i, i + 2) : NOT_FOUND;
      if (pairRanks[i] !== NOT_FOUND) size = this.heapPush(size, pairRanks[i]! * POSITION_SPAN + i);
    }
    let parts = n;
    while (size > 0) {
      const key = this.heap[0]!;
      size = this.heapPop(size);
      const rank = Math.floor(key / POSITION_SPAN);
      const i = key - rank * POSITION_SPAN;
      // A part that was joined into its left neighbour has prev[i] === -2; a changed pair has a new rank.
      if (prev[i] === -2 || pairRanks[i] !== rank) continue;
      const joined = next[i]!;
      const after = next[joined]!;
      next[i] = after;
      if (after < n) prev[after] = i;
      prev[joined] = -2;
      parts--;
      pairRanks[i] = after < n ? this.rankOf(piece, i, next[after]!) : NOT_FOUND;
      if (pairRanks[i] !== NOT_FOUND) size = this.heapPush(size, pairRanks[i]! * POSITION_SPAN + i);
      const before = prev[i]!;
      if (before >= 0) {
        pairRanks[before] = this.rankOf(piece, before, after);
        if (pairRanks[before] !== NOT_FOUND) size = this.heapPush(size, pairRanks[before]! * POSITION_SPAN + before);
      }
    }
    return parts;
  }

  private heapPush(size: number, key: number): number {
    if (size === this.heap.length) {
      const grown = new Float64Array(size * 2);
      grown.set(this.heap);
      this.heap = grown;
    }
    const heap = this.heap;
    let i = size;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= key) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = key;
    return size + 1;
  }

  private heapPop(size: number): number {
    const heap = this.heap;
    const last = heap[--size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && heap[child + 1]! < heap[child]!) child++;
      if (heap[child]! >= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return size;
  }

  private ensureScratch(length: number): void {
    if (this.bounds.length >= length) return;
    let size = this.bounds.length;
    while (size < length) size *= 2;
    this.bounds = new Int32Array(size);
    this.pairRanks = new Int32Array(size);
    this.next = new Int32Array(size);
    this.prev = new Int32Array(size);
  }

  /** The rank of bytes[from, to), or NOT_FOUND. */
  private rankOf(bytes: Uint8Array, from: number, to: number): number {
    const tokenBytes = this.tokenBytes;
    const entryStart = this.entryStart;
    const length = to - from;
    for (let slot = hashBytes(bytes, from, to) & this.slotMask; ; slot = (slot + 1) & this.slotMask) {
      const e = this.slots[slot]! - 1;
      if (e < 0) return NOT_FOUND;
      const start = entryStart[e]!;
      if (entryStart[e + 1]! - start !== length) continue;
      let k = 0;
      while (k < length && tokenBytes[start + k] === bytes[from + k]) k++;
      if (k === length) return this.entryRank[e]!;
    }
  }

  private insert(entry: number, end: number): void {
    const start = this.entryStart[entry]!;
    let slot = hashBytes(this.tokenBytes, start, end) & this.slotMask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & this.slotMask;
    this.slots[slot] = entry + 1;
  }
}

function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h >>> 0;
}

/** Calls `each` with the span of every base64 token in the rank lines and its rank. */
function forEachToken(ranks: string, each: (from: number, to: number, rank: number) => void): void {
  for (let at = 0; at < ranks.length; ) {
    let lineEnd = ranks.indexOf('\n', at);
    if (lineEnd === -1) lineEnd = ranks.length;
    // `<prefix> <first rank> <token> <token> ...`
    const prefixEnd = ranks.indexOf(' ', at);
    const rankEnd = prefixEnd === -1 ? -1 : ranks.indexOf(' ', prefixEnd + 1);
    if (prefixEnd !== -1 && rankEnd !== -1 && rankEnd < lineEnd) {
      let rank = Number(ranks.slice(prefixEnd + 1, rankEnd));
      if (!Number.isInteger(rank)) throw new Error(`not a rank: ${ranks.slice(prefixEnd + 1, rankEnd)}`);
      for (let from = rankEnd + 1; from < lineEnd; ) {
        let to = ranks.indexOf(' ', from);
        if (to === -1 || to > lineEnd) to = lineEnd;
        if (to > from) each(from, to, rank++);
        from = to + 1;
      }
    }
    at = lineEnd + 1;
  }
}

function base64Value(c: number): number {
  if (c >= 65 && c <= 90) return c - 65; // A-Z
  if (c >= 97 && c <= 122) return c - 71; // a-z
  if (c >= 48 && c <= 57) return c + 4; // 0-9
  if (c === 43 || c === 45) return 62; // + or -
  if (c === 47 || c === 95) return 63; // / or _
  throw new Error(`not base64: ${String.fromCharCode(c)}`);
}

function base64Length(s: string, from: number, to: number): number {
  while (to > from && s.charCodeAt(to - 1) === 61) to--; // '='
  return Math.floor(((to - from) * 3) / 4);
}

/** Decodes s[from, to) into out at `at`; returns the end. */
function decodeBase64(s: string, from: number, to: number, out: Uint8Array, at: number): number {
  while (to > from && s.charCodeAt(to - 1) === 61) to--;
  let bits = 0;
  let buffered = 0;
  for (let i = from; i < to; i++) {
    bits = ((bits << 6) | base64Value(s.charCodeAt(i))) & 0xffff;
    buffered += 6;
    if (buffered >= 8) {
      buffered -= 8;
      out[at++] = (bits >> buffered) & 0xff;
    }
  }
  return at;
}
