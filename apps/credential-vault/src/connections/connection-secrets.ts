import { Injectable } from '@nestjs/common';
import { EnvelopeCipher, SecretUnreadableError, type SealedSecret } from '../crypto/envelope-cipher.js';

/**
 * The secret part of a connection: sealed together, as one payload, under one data key.
 * `secrets` holds every secret field the adapter declares, apiKey included.
 */
export interface ConnectionCredentials {
  secrets: Record<string, string>;
  headers: Record<string, string>;
}

/** The row a sealed payload belongs to; it is the AAD, so the payload opens only on that row. */
export interface ConnectionOwner {
  organisationId: string;
  id: string;
}

/**
 * The sealed JSON. Rows sealed before typed connections hold only {apiKey, headers}; apiKey stays
 * at the top level (absent when there is none), the adapter's other secrets sit in `secrets`.
 */
interface SealedPayload {
  apiKey?: string;
  headers: Record<string, string>;
  secrets?: Record<string, string>;
}

/** Seals and opens connection credentials, bound to their organisation and connection id. */
@Injectable()
export class ConnectionSecrets {
  constructor(private readonly cipher: EnvelopeCipher) {}

  seal(owner: ConnectionOwner, credentials: ConnectionCredentials): SealedSecret {
    const { apiKey, ...others } = credentials.secrets;
    const sealed: SealedPayload = { ...(apiKey !== undefined ? { apiKey } : {}), headers: credentials.headers, secrets: others };
    const payload = Buffer.from(JSON.stringify(sealed), 'utf8');
    try {
      return this.cipher.seal(payload, rowContext(owner));
    } finally {
      payload.fill(0);
    }
  }

  open(owner: ConnectionOwner, sealed: SealedSecret): ConnectionCredentials {
    const payload = this.cipher.open(sealed, rowContext(owner));
    try {
      const parsed = JSON.parse(payload.toString('utf8')) as Partial<SealedPayload>;
      if (!isStringMap(parsed.headers) || (parsed.apiKey !== undefined && typeof parsed.apiKey !== 'string') || (parsed.secrets !== undefined && !isStringMap(parsed.secrets))) {
        throw new SecretUnreadableError('unknown_format', 'the sealed payload is not a connection secret');
      }
      const secrets: Record<string, string> = { ...(parsed.secrets ?? {}) };
      if (parsed.apiKey !== undefined) secrets.apiKey = parsed.apiKey;
      return { secrets, headers: parsed.headers };
    } finally {
      payload.fill(0);
    }
  }
}

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

/** JSON keeps the two ids unambiguous whatever characters they hold. */
function rowContext(owner: ConnectionOwner): Buffer {
  return Buffer.from(JSON.stringify(['vault.connection.v1', owner.organisationId, owner.id]), 'utf8');
}
