import { createRequire } from 'node:module';
import type { TokenizerId } from '#libs/contracts';
import { approximateTokenCount, BpeCounter, type BpeRankData, type EncodingName } from '#libs/tokenizer';
import type { CallTexts } from './llm-call.js';

const require = createRequire(import.meta.url);

/** The encodings js-tiktoken ships ranks for here; others are estimated with the approximation. */
const BPE_ENCODINGS: ReadonlySet<TokenizerId> = new Set<EncodingName>(['o200k_base', 'cl100k_base']);

/** Estimated input and output tokens of a call. */
export interface EstimatedTokens {
  input: bigint;
  output: bigint;
}

/**
 * Estimates a call's usage from its texts with the tokenizer of the model's definition (DESIGN.md:
 * a span with text but no token counts), for metering only, never on the gateway's hot path. A BPE
 * encoding's counter is built on first use (a few MB) and kept. Texts that are JSON message lists
 * (gen_ai.input.messages, OpenInference's input.value) are counted on their text content, not their
 * JSON syntax. A definition whose tokenizer is `none`, and a call no definition matches, are
 * estimated with the approximation (about four bytes a token): the record says estimated either way.
 */
export class UsageEstimator {
  private readonly counters = new Map<TokenizerId, BpeCounter>();

  estimate(texts: CallTexts, tokenizer: TokenizerId | undefined): EstimatedTokens {
    const count = this.counterFor(tokenizer);
    const output = BigInt(count(texts.output.flatMap(contentOf)));
    return { input: BigInt(count(texts.input.flatMap(contentOf))), output: output > texts.minOutputTokens ? output : texts.minOutputTokens };
  }

  private counterFor(tokenizer: TokenizerId | undefined): (parts: readonly string[]) => number {
    if (tokenizer === undefined || !BPE_ENCODINGS.has(tokenizer)) return approximateTokenCount;
    let counter = this.counters.get(tokenizer);
    if (!counter) {
      counter = new BpeCounter(require(`js-tiktoken/ranks/${tokenizer}`) as BpeRankData);
      this.counters.set(tokenizer, counter);
    }
    const bpe = counter;
    return (parts) => parts.reduce((n, part) => n + bpe.count(part), 0);
  }
}

/** The texts of an attribute value: the string leaves of a JSON message list or object (roles and types left out), else the text itself. */
export function contentOf(text: string): string[] {
  const first = text.trimStart()[0];
  if (first !== '[' && first !== '{') return [text];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [text];
  }
  const out: string[] = [];
  const walk = (value: unknown, key: string | null): void => {
    if (typeof value === 'string') {
      if (key === null || !STRUCTURAL_KEYS.has(key)) out.push(value);
    } else if (Array.isArray(value)) for (const v of value) walk(v, key);
    else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk(parsed, null);
  return out;
}

/** Keys of message lists whose values are structure, not text the model read or wrote. */
const STRUCTURAL_KEYS: ReadonlySet<string> = new Set(['role', 'type', 'finish_reason', 'id', 'tool_call_id', 'mime_type', 'modality']);
