import { Injectable, Logger } from '@nestjs/common';
import type { RepriceResultView, TenantScope } from '#libs/contracts';
import { formatDecimal } from '#libs/money';
import { DefinitionsReadModel } from '../definitions/definitions-read-model.js';
import { INCONSISTENT_USAGE, priceUsage, type PricingOutcome } from '../pricing/usage-pricer.js';
import { KeySpendReporter } from '../key-spend/key-spend-reporter.js';
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
    private readonly keySpend: KeySpendReporter,
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

  /**
   * Re-prices one tenant's unpriced records now (an admin's action, after adding a definition or a
   * price version) and answers what it changed: each record's reason before and its outcome after.
   * Safe beside the background runs: a record is only ever priced once (updateUnpriced).
   */
  async repriceScope(scope: TenantScope): Promise<RepriceResultView> {
    const result: RepriceResultView = { examined: 0, priced: 0, changed: [] };
    if (!this.definitions.isLoaded) return result;
    const catalogue = this.definitions.catalogue;
    let afterId = '';
    for (;;) {
      const page = await this.records.findRepriceable(afterId, PAGE, scope);
      if (page.length === 0) break;
      result.examined += page.length;
      const updates = page.map((r) => ({ record: r, id: r.id, outcome: priceUsage(r, catalogue) })).filter((u) => changed(u.record, u.outcome));
      const applied = new Set(await this.records.updateUnpricedIds(updates));
      this.spent(updates, applied);
      for (const u of updates) {
        if (!applied.has(u.id)) continue;
        const o = u.outcome;
        if (o.priced) result.priced++;
        result.changed.push({
          id: u.id,
          model: u.record.model,
          previousReason: u.record.unpricedReason,
          priced: o.priced,
          cost: o.priced ? formatDecimal(o.cost) : null,
          unpricedReason: o.priced ? null : o.reason,
          definitionId: o.definitionId,
          priceEffectiveFrom: o.priced ? o.priceEffectiveFrom.toISOString() : (o.priceEffectiveFrom?.toISOString() ?? null),
        });
      }
      afterId = page[page.length - 1].id;
    }
    this.logger.log(`re-priced for ${scope.organisationId}${scope.projectId ? `/${scope.projectId}` : ''}: ${result.examined} unpriced records examined, ${result.changed.length} changed, ${result.priced} priced`);
    return result;
  }

  private spent(updates: readonly { record: UnpricedRecord; id: string; outcome: PricingOutcome }[], applied: ReadonlySet<string>): void {
    this.keySpend.notePriced(pricedNow(updates, applied));
  }

  private async repriceAll(): Promise<void> {
    if (!this.definitions.isLoaded) return;
    const catalogue = this.definitions.catalogue;
    let afterId = '';
    let priced = 0;
    for (;;) {
      const page = await this.records.findRepriceable(afterId, PAGE);
      if (page.length === 0) break;
      const updates = page.map((r) => ({ record: r, id: r.id, outcome: priceUsage(r, catalogue) })).filter((u) => changed(u.record, u.outcome));
      const applied = new Set(await this.records.updateUnpricedIds(updates));
      this.spent(updates, applied);
      priced += updates.filter((u) => u.outcome.priced && applied.has(u.id)).length;
      afterId = page[page.length - 1].id;
    }
    if (priced > 0) this.logger.log(`priced ${priced} usage records that had no price before`);
  }
}

/** The records priced by this run count against their keys' budgets now. */
function pricedNow(updates: readonly { record: UnpricedRecord; id: string; outcome: PricingOutcome }[], applied: ReadonlySet<string>) {
  return updates.flatMap((u) => (u.outcome.priced && applied.has(u.id) ? [{ keyId: u.record.keyId, startedAt: u.record.startedAt, cost: u.outcome.cost }] : []));
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
