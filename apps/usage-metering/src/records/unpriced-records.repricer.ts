import { Injectable, Logger } from '@nestjs/common';
import { DefinitionsReadModel } from '../definitions/definitions-read-model.js';
import { INCONSISTENT_USAGE, priceUsage, type PricingOutcome } from '../pricing/usage-pricer.js';
import { UsageRecordsRepository, type UnpricedRecord } from './usage-records.repository.js';

const PAGE = 500;

/**
 * Prices again the records still unpriced whenever the definitions change, so a span that arrived
 * before its definition (or its price version) gets its cost. Runs in the background, one run at a
 * time; a request during a run makes one more run afterwards.
 */
@Injectable()
export class UnpricedRecordsRepricer {
  private readonly logger = new Logger(UnpricedRecordsRepricer.name);
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly definitions: DefinitionsReadModel,
    private readonly records: UsageRecordsRepository,
  ) {
    definitions.onChange(() => this.schedule());
  }

  schedule(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.repriceAll().catch((e: unknown) => this.logger.error(`re-pricing failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
        } while (this.again && !this.stopped);
      } finally {
        this.running = null;
      }
    })();
  }

  /** Starts no more runs and resolves when the one under way is done (before the database closes). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.again = false;
    while (this.running) await this.running;
  }

  private async repriceAll(): Promise<void> {
    if (!this.definitions.isLoaded) return;
    const catalogue = this.definitions.catalogue;
    let afterId = '';
    let priced = 0;
    for (;;) {
      const page = await this.records.findRepriceable(afterId, PAGE);
      if (page.length === 0) break;
      const updates = page.map((r) => ({ id: r.id, outcome: priceUsage(r, catalogue) })).filter((u, i) => changed(page[i], u.outcome));
      await this.records.updateUnpriced(updates);
      priced += updates.filter((u) => u.outcome.priced).length;
      afterId = page[page.length - 1].id;
    }
    if (priced > 0) this.logger.log(`priced ${priced} usage records that had no price before`);
  }
}

function changed(record: UnpricedRecord, outcome: PricingOutcome): boolean {
  if (outcome.priced) return true;
  if (outcome.reason === INCONSISTENT_USAGE) return false;
  return (
    outcome.reason !== record.unpricedReason ||
    outcome.definitionId !== record.definitionId ||
    (outcome.priceEffectiveFrom?.getTime() ?? null) !== (record.priceEffectiveFrom?.getTime() ?? null)
  );
}
