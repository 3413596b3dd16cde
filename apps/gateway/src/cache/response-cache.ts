import type { CanonicalUsage } from '#libs/adapter-sdk';

/** What metering needs to record a hit as the call it repeats (its usage, at zero provider cost). */
export interface CachedCallFacts {
  model?: string;
  id?: string;
  usage?: CanonicalUsage;
  finishReasons?: readonly string[];
  /** The model and connection that served the original call. */
  servedBy?: { model: string; connection: string };
}

/** One complete, successful answer as the client received it: its status, content type and body bytes (a stream's SSE bytes with their framing). */
export interface CachedAnswer {
  status: number;
  contentType: string;
  body: Buffer;
  stream: boolean;
  facts: CachedCallFacts;
}

interface Entry {
  answer: CachedAnswer;
  expiresAtMs: number;
  bytes: number;
}

/** The bytes an entry is charged beside its body (its key, headers and facts), so many tiny answers still fill the bound. */
const ENTRY_OVERHEAD_BYTES = 512;

/**
 * An in-memory LRU of whole answers, bounded by bytes, with a TTL per entry. One per gateway
 * replica: replicas do not share it (a hit on one replica is a miss on another until it has
 * answered the same request itself). Keys are cacheKey()'s hashes, which include the organisation.
 */
export class ResponseCache {
  /** Map order is recency: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private totalBytes = 0;

  constructor(
    readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The largest single answer kept: an eighth of the bound, so one answer cannot flush the whole cache. */
  get maxEntryBytes(): number {
    return Math.floor(this.maxBytes / 8);
  }

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string): CachedAnswer | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() >= entry.expiresAtMs) {
      this.remove(key, entry);
      return undefined;
    }
    // Most recently used goes last.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.answer;
  }

  /** Keeps the answer for ttlMs; false when it is larger than one entry may be. */
  set(key: string, answer: CachedAnswer, ttlMs: number): boolean {
    const bytes = answer.body.length + key.length + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxEntryBytes || ttlMs <= 0) return false;
    const previous = this.entries.get(key);
    if (previous) this.remove(key, previous);
    this.entries.set(key, { answer, expiresAtMs: this.now() + ttlMs, bytes });
    this.totalBytes += bytes;
    this.evict();
    return true;
  }

  private evict(): void {
    if (this.totalBytes <= this.maxBytes) return;
    const now = this.now();
    // Expired entries first, wherever they sit; then the least recently used.
    for (const [key, entry] of this.entries) if (now >= entry.expiresAtMs) this.remove(key, entry);
    for (const [key, entry] of this.entries) {
      if (this.totalBytes <= this.maxBytes) break;
      this.remove(key, entry);
    }
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }
}
