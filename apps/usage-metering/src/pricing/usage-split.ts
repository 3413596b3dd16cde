import type { UsageType } from '#libs/contracts';
import type { TokenUsage } from './token-usage.js';

/** The parts every call's usage is split into; the other usage types (audio, image) are there only when a span reports them. */
export type CoreUsageType = 'input' | 'output' | 'cache_read' | 'cache_write' | 'reasoning';

/** Tokens per usage type, each token in exactly one part (DESIGN.md, pricing rules). An absent type has no tokens. */
export type UsageSplit = Record<CoreUsageType, bigint> & Partial<Record<UsageType, bigint>>;

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
