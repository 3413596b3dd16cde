import { Decimal } from 'decimal.js';

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;

/**
 * JSON.parse with every number turned into the exact decimal string written in the text
 * (`2.5e-06` -> "0.0000025"), taken from the source text (JSON.parse source text access, Node 21+),
 * so no price passes through a binary float. Throws when the runtime cannot give the source text.
 */
export function parseJsonExactNumbers(text: string): unknown {
  const reviver: Reviver = (_key, value, context) => {
    if (typeof value !== 'number') return value;
    if (typeof context?.source !== 'string') throw new Error('this runtime does not give JSON number source text (needs Node 21 or later)');
    return new Decimal(context.source).toFixed();
  };
  return JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1]);
}
