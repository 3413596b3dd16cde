import type { StreamDecoder } from '../adapter-v2.js';
import type { CanonicalStreamPart } from '../canonical.js';

/**
 * Test helper: how a network may cut a stream. Whole, byte by byte (so every multi-byte character is
 * cut), and a few odd fixed sizes.
 */
export const CHUNK_SPLITS: ReadonlyArray<{ name: string; size: number }> = [
  { name: 'whole', size: Number.MAX_SAFE_INTEGER },
  { name: 'byte by byte', size: 1 },
  { name: '2-byte chunks', size: 2 },
  { name: '3-byte chunks', size: 3 },
  { name: '7-byte chunks', size: 7 },
  { name: '64-byte chunks', size: 64 },
];

/** Feeds `bytes` to a fresh decoder in chunks of `size` and returns every part, end() included. */
export function decodeInChunks(createDecoder: () => StreamDecoder, bytes: Uint8Array, size: number): CanonicalStreamPart[] {
  const decoder = createDecoder();
  const parts: CanonicalStreamPart[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(...decoder.push(bytes.subarray(i, Math.min(i + size, bytes.length))));
  parts.push(...decoder.end());
  return parts;
}

/** Adjacent deltas of one kind joined, so parts can be compared whatever the chunking. */
export function mergeDeltas(parts: readonly CanonicalStreamPart[]): CanonicalStreamPart[] {
  const out: CanonicalStreamPart[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (last && p.type === 'text-delta' && last.type === 'text-delta' && last.choice === p.choice) out[out.length - 1] = { ...last, text: last.text + p.text };
    else if (last && p.type === 'reasoning-delta' && last.type === 'reasoning-delta' && last.choice === p.choice) out[out.length - 1] = { ...last, text: last.text + p.text };
    else if (last && p.type === 'tool-call-delta' && last.type === 'tool-call-delta' && last.index === p.index && last.choice === p.choice) {
      out[out.length - 1] = { ...last, inputDelta: last.inputDelta + p.inputDelta };
    } else out.push(p);
  }
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
