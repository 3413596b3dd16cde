import { Injectable } from '@nestjs/common';
import { EnvelopeCipher, SecretUnreadableError, type SealedSecret } from '../crypto/envelope-cipher.js';

/** The secret part of a connection: sealed together, as one payload, under one data key. */
export interface ConnectionCredentials {
  apiKey: string;
  headers: Record<string, string>;
}

/** The row a sealed payload belongs to; it is the AAD, so the payload opens only on that row. */
export interface ConnectionOwner {
  organisationId: string;
  id: string;
}

/** Seals and opens connection credentials, bound to their organisation and connection id. */
@Injectable()
export class ConnectionSecrets {
  constructor(private readonly cipher: EnvelopeCipher) {}

  seal(owner: ConnectionOwner, credentials: ConnectionCredentials): SealedSecret {
    const payload = Buffer.from(JSON.stringify({ apiKey: credentials.apiKey, headers: credentials.headers }), 'utf8');
    try {
      return this.cipher.seal(payload, rowContext(owner));
    } finally {
      payload.fill(0);
    }
  }

  open(owner: ConnectionOwner, sealed: SealedSecret): ConnectionCredentials {
    const payload = this.cipher.open(sealed, rowContext(owner));
    try {
      const parsed = JSON.parse(payload.toString('utf8')) as Partial<ConnectionCredentials>;
      if (typeof parsed.apiKey !== 'string' || typeof parsed.headers !== 'object' || parsed.headers === null) {
        throw new SecretUnreadableError('unknown_format', 'the sealed payload is not a connection secret');
      }
      return { apiKey: parsed.apiKey, headers: parsed.headers };
    } finally {
      payload.fill(0);
    }
  }
}

/** JSON keeps the two ids unambiguous whatever characters they hold. */
function rowContext(owner: ConnectionOwner): Buffer {
  return Buffer.from(JSON.stringify(['vault.connection.v1', owner.organisationId, owner.id]), 'utf8');
}
