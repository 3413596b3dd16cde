import type { UsageType } from '#libs/contracts';
import type { TokenUsage } from './token-usage.js';

/** Tokens per usage type, each token in exactly one part (DESIGN.md, pricing rules). */
export type UsageSplit = Record<UsageType, bigint>;

/**
 * Splits a call's usage into the parts that are priced separately: uncached input =
 * input - cache_read - cache_write, text output = output - reasoning. Returns null when the
 * attributes contradict each other (more cached tokens than input, more reasoning than output):
 * such a call cannot be priced without counting something twice or inventing a count.
 */
export function splitUsage(usage: TokenUsage): UsageSplit | null {
  const uncachedInput = usage.input - usage.cacheRead - usage.cacheWrite;
  const textOutput = usage.output - usage.reasoning;
  if (uncachedInput < 0n || textOutput < 0n) return null;
  return { input: uncachedInput, cache_read: usage.cacheRead, cache_write: usage.cacheWrite, output: textOutput, reasoning: usage.reasoning };
}
