import { Injectable, Logger } from '@nestjs/common';
import { EnvelopeCipher } from './envelope-cipher.js';
import type { MasterKeyRing } from './master-key-ring.js';
import { MasterKeySource } from './master-key-source.js';

/**
 * The master keys this vault holds, changed without a restart (issue 16.6): re-read from their
 * source (a key put first in VAULT_MASTER_KEY_FILE), or a new one generated (the embedded key
 * file). Every key held before stays readable, so nothing sealed earlier stops opening; the new
 * active key wraps every data key sealed or re-wrapped from then on.
 */
@Injectable()
export class MasterKeys {
  private readonly logger = new Logger(MasterKeys.name);
  private reloading?: Promise<boolean>;

  constructor(
    private readonly source: MasterKeySource,
    private readonly cipher: EnvelopeCipher,
  ) {}

  get activeId(): string {
    return this.cipher.keyRing.activeId;
  }

  has(id: string): boolean {
    return this.cipher.keyRing.has(id);
  }

  /**
   * Re-reads the source; true when it brought a key this vault did not hold (another vault replica
   * rotated, and rows are being re-wrapped under a key this one has not seen yet). Concurrent calls share one read.
   */
  reload(): Promise<boolean> {
    this.reloading ??= (async () => {
      try {
        return this.adopt(await this.source.load());
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  /** A new active key made by the source; false when the source's keys come from the operator. */
  async generate(): Promise<boolean> {
    const ring = await this.source.generate();
    if (!ring) return false;
    this.adopt(ring);
    return true;
  }

  private adopt(ring: MasterKeyRing): boolean {
    const held = this.cipher.keyRing;
    const added = ring.activeId !== held.activeId || [...ring.retiredIds].some((id) => !held.has(id));
    if (!added) return false;
    this.cipher.useKeys(ring.withRetired(held));
    this.logger.log(`master keys reloaded: active ${ring.activeId} (was ${held.activeId})`);
    return true;
  }
}
