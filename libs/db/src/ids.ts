import { randomFillSync } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_BYTES = 16;
/** Random bytes are drawn from the CSPRNG in blocks, not per id: one syscall per 256 ids. */
const POOL_BYTES = ID_BYTES * 256;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;

/** Opaque ids with a readable type prefix, e.g. conn_3kq7... (base32, 128 random bits). */
export function newId(prefix: string): string {
  if (poolOffset === POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += ID_BYTES;
  let bits = 0;
  let value = 0;
  let out = '';
  for (let i = start; i < start + ID_BYTES; i++) {
    value = ((value << 8) | pool[i]!) & 0xfff; // at most 12 bits are ever pending
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return `${prefix}_${out}`;
}
