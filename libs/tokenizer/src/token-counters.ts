import { approximateTokenCount } from './approximate-count.js';
import { ENCODING_NAMES, TokenCounter, type EncodingName, type TokenCounterOptions } from './token-counter.js';

/** How a count was made: a public encoding (exact) or the approximation (an estimate, and says so). */
export type CountMethod = EncodingName | 'approximate';

export interface TokenCount {
  tokens: number;
  method: CountMethod;
}

/** The encoding a model is counted with when no model definition names one (GPT-4o and later). */
export const DEFAULT_ENCODING: EncodingName = 'o200k_base';

/**
 * Counts with whichever tokenizer a model definition names (TokenizerId, #libs/contracts): a public
 * encoding on its own worker thread (started on first use, stopped when idle, like TokenCounter), or
 * the approximation for models whose tokenizer is not public (`approximate`) or is never counted
 * locally (`none`: a limit still needs a figure, so the estimate, marked as such). No tokenizer
 * (no definition matches the model) counts with DEFAULT_ENCODING.
 */
export class TokenCounters {
  private readonly counters = new Map<EncodingName, TokenCounter>();

  constructor(private readonly options: Omit<TokenCounterOptions, 'encoding'> = {}) {}

  /** The method a tokenizer id counts with. */
  static methodOf(tokenizer: string | undefined): CountMethod {
    if (tokenizer === undefined) return DEFAULT_ENCODING;
    return (ENCODING_NAMES as readonly string[]).includes(tokenizer) ? (tokenizer as EncodingName) : 'approximate';
  }

  /** The counter of one encoding (for callers that count with it directly). */
  encoding(name: EncodingName): TokenCounter {
    let counter = this.counters.get(name);
    if (!counter) {
      counter = new TokenCounter({ ...this.options, encoding: name });
      this.counters.set(name, counter);
    }
    return counter;
  }

  /** The whole count of the parts with the tokenizer's method. */
  async count(tokenizer: string | undefined, parts: string[]): Promise<TokenCount> {
    const method = TokenCounters.methodOf(tokenizer);
    if (method === 'approximate') return { tokens: approximateTokenCount(parts), method };
    return { tokens: await this.encoding(method).count(parts), method };
  }

  async close(): Promise<void> {
    const all = [...this.counters.values()];
    this.counters.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
