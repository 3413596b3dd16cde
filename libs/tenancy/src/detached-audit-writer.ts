import { Logger } from '@nestjs/common';
import type { AuditEntry } from './audit-entry.js';

const RETRY_DELAYS_MS = [50, 250, 1_000, 5_000];

/**
 * Writes audit entries of denied and failed attempts off the answer's path: the denial is
 * answered at once, the entry follows. It is retried, and an entry that still cannot be written
 * is logged in full (entries hold no secret) and counted, so none is lost silently.
 * Successful changes do not use this: they write their entry in the change's own transaction.
 */
export class DetachedAuditWriter<E extends AuditEntry> {
  private readonly inFlight = new Set<Promise<void>>();
  private lostCount = 0;

  constructor(
    private readonly write: (entry: E) => Promise<void>,
    private readonly logger: Logger,
    private readonly delaysMs: readonly number[] = RETRY_DELAYS_MS,
  ) {}

  record(entry: E): void {
    const attempt = this.writeWithRetries(entry).finally(() => this.inFlight.delete(attempt));
    this.inFlight.add(attempt);
  }

  /** Entries given up on since start. */
  get lost(): number {
    return this.lostCount;
  }

  /** Waits for every entry in flight (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async writeWithRetries(entry: E): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.write(entry);
        return;
      } catch (err) {
        const delay = this.delaysMs[attempt];
        if (delay === undefined) {
          this.lostCount++;
          this.logger.error(`audit entry could not be written after ${attempt + 1} attempts (${String(err)}): ${JSON.stringify(entry)}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
