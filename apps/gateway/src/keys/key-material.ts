import { createHash, randomBytes } from 'node:crypto';

export const KEY_PREFIX = 'sk-gw-';

/** A new key: 32 random bytes, base64url, behind a recognisable prefix. */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** Keys carry 256 bits of entropy, so one SHA-256 is enough (no slow KDF on the request path). */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What listings show to recognise a key: the prefix and four characters. */
export function displayPrefix(key: string): string {
  return key.slice(0, KEY_PREFIX.length + 4);
}
