import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { MasterKeyRing } from './master-key-ring.js';

/** What is stored for one secret: the payload under its own data key, and that key wrapped by a master key. */
export interface SealedSecret {
  ciphertext: Buffer;
  wrappedDataKey: Buffer;
  masterKeyId: string;
}

export type UnreadableReason = 'unknown_master_key' | 'authentication_failed' | 'unknown_format';

/** A secret that cannot be opened: a master key is missing, or the stored bytes or their row context were altered. */
export class SecretUnreadableError extends Error {
  constructor(
    readonly reason: UnreadableReason,
    message: string,
  ) {
    super(message);
    this.name = 'SecretUnreadableError';
  }
}

const ALGORITHM = 'aes-256-gcm';
/** First byte of every stored blob, so the layout can change later without guessing. */
const FORMAT_V1 = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

/**
 * Envelope encryption with AES-256-GCM (DESIGN.md, data rules). Each secret gets a fresh random
 * 32-byte data key; the payload is encrypted under it with the caller's `context` as additional
 * authenticated data (so a ciphertext only opens on the row it was written for), and the data key
 * is wrapped by the active master key with the master key id as AAD. Rotating the master key then
 * means re-wrapping 60 bytes per secret, never re-encrypting payloads.
 *
 * Layout of both blobs: version (1) | IV (12) | GCM tag (16) | ciphertext.
 */
@Injectable()
export class EnvelopeCipher {
  constructor(private keys: MasterKeyRing) {}

  get activeMasterKeyId(): string {
    return this.keys.activeId;
  }

  get keyRing(): MasterKeyRing {
    return this.keys;
  }

  /** From now on, wraps under `ring`'s active key and unwraps with any of its keys (MasterKeys keeps the old ones in it). */
  useKeys(ring: MasterKeyRing): void {
    this.keys = ring;
  }

  seal(plaintext: Buffer, context: Buffer): SealedSecret {
    const dataKey = randomBytes(DATA_KEY_BYTES);
    try {
      const ciphertext = encrypt(createSecretKey(dataKey), plaintext, context);
      const active = this.keys.active;
      const wrappedDataKey = encrypt(active.key, dataKey, masterKeyAad(active.id));
      return { ciphertext, wrappedDataKey, masterKeyId: active.id };
    } finally {
      dataKey.fill(0);
    }
  }

  /** The plaintext; throws SecretUnreadableError when any byte, the context or the master key id does not match. */
  open(sealed: SealedSecret, context: Buffer): Buffer {
    const dataKey = this.unwrap(sealed);
    try {
      return decrypt(createSecretKey(dataKey), sealed.ciphertext, context, 'the secret');
    } finally {
      dataKey.fill(0);
    }
  }

  /** The same secret with its data key wrapped by the active master key; the payload ciphertext is untouched. */
  rewrap<T extends Pick<SealedSecret, 'wrappedDataKey' | 'masterKeyId'>>(sealed: T): T {
    const dataKey = this.unwrap(sealed);
    try {
      const active = this.keys.active;
      return { ...sealed, wrappedDataKey: encrypt(active.key, dataKey, masterKeyAad(active.id)), masterKeyId: active.id };
    } finally {
      dataKey.fill(0);
    }
  }

  private unwrap(sealed: Pick<SealedSecret, 'wrappedDataKey' | 'masterKeyId'>): Buffer {
    const masterKey = this.keys.get(sealed.masterKeyId);
    if (!masterKey) {
      throw new SecretUnreadableError('unknown_master_key', `master key ${sealed.masterKeyId} is not configured (VAULT_MASTER_KEY)`);
    }
    const dataKey = decrypt(masterKey, sealed.wrappedDataKey, masterKeyAad(sealed.masterKeyId), 'the data key');
    if (dataKey.length !== DATA_KEY_BYTES) throw new SecretUnreadableError('unknown_format', 'the data key has the wrong length');
    return dataKey;
  }
}

function masterKeyAad(id: string): Buffer {
  return Buffer.from(`vault.master-key:${id}`, 'utf8');
}

function encrypt(key: KeyObject, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(FORMAT_V1), iv, cipher.getAuthTag(), body]);
}

function decrypt(key: KeyObject, blob: Buffer, aad: Buffer, what: string): Buffer {
  if (blob.length < HEADER_BYTES || blob[0] !== FORMAT_V1) {
    throw new SecretUnreadableError('unknown_format', `${what} is not in a known storage format`);
  }
  const iv = blob.subarray(1, 1 + IV_BYTES);
  const tag = blob.subarray(1 + IV_BYTES, HEADER_BYTES);
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(blob.subarray(HEADER_BYTES)), decipher.final()]);
  } catch {
    throw new SecretUnreadableError('authentication_failed', `${what} failed authentication (altered, or moved from another row)`);
  }
}
