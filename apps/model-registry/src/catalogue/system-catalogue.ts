import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { SYSTEM_ORGANISATION_ID, type PriceTierView } from '#libs/contracts';
import { newId } from '#libs/db';
import { Clock } from '#libs/runtime';
import type { EntityManager } from 'typeorm';
import { ModelDefinitionEntity } from '../model-definitions/model-definition.entity.js';
import { toModelDefinitionViews } from '../model-definitions/model-definition-view.js';
import { ModelDefinitionsRepository } from '../model-definitions/model-definitions.repository.js';
import { versionRows } from '../model-definitions/model-definitions.service.js';
import { normalisePrices } from '../model-definitions/price-decimal.js';
import type { NormalisedTier } from '../model-definitions/price-version.js';
import { defaultCataloguePath, readCatalogueFile, type CatalogueEntry, type CatalogueFile } from './catalogue-file.js';

/** What one application of the catalogue changed. All zero when the file was applied before. */
export interface CatalogueApplied {
  inserted: number;
  updated: number;
  versionsAdded: number;
  unchanged: number;
}

/** One registry replica applies the catalogue at a time (distributed mode starts several). */
const CATALOGUE_LOCK_KEY = 1_404_006;

/**
 * The built-in catalogue of System definitions: applied from the data file at every start,
 * idempotently. A new entry becomes a System definition with one version; an entry whose name,
 * pattern or tokenizer changed is updated in place; an entry whose prices or tiers changed gets a
 * new version (effective from now, or the entry's date if later): no version is rewritten, so
 * calls already priced keep their price. Entries gone from the file are left as they are.
 * System definitions are read-only through the API; a User definition overrides one.
 */
@Injectable()
export class SystemCatalogue implements OnApplicationBootstrap {
  private readonly logger = new Logger(SystemCatalogue.name);

  constructor(
    private readonly definitions: ModelDefinitionsRepository,
    private readonly bus: BusClient,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.modelCatalogueFile === 'off') return;
    const file = this.config.modelCatalogueFile ?? defaultCataloguePath();
    const catalogue = readCatalogueFile(file);
    const applied = await this.apply(catalogue);
    this.logger.log(
      `model catalogue ${file} (${catalogue.generatedAt}): ${applied.inserted} added, ${applied.updated} updated, ${applied.versionsAdded} new price versions, ${applied.unchanged} unchanged`,
    );
  }

  async apply(catalogue: CatalogueFile): Promise<CatalogueApplied> {
    const applied = await this.definitions.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [CATALOGUE_LOCK_KEY]);
      const now = this.clock.now();
      const stored = await this.definitions.systemDefinitions(manager);
      const views = new Map(toModelDefinitionViews(stored, now).map((v) => [v.id, v]));
      const byKey = new Map(stored.definitions.filter((d) => d.catalogueKey !== null).map((d) => [d.catalogueKey!, d]));
      const result: CatalogueApplied = { inserted: 0, updated: 0, versionsAdded: 0, unchanged: 0 };
      for (const entry of catalogue.definitions) {
        const existing = byKey.get(entry.key);
        if (!existing) {
          await this.insert(entry, now, manager);
          result.inserted++;
          continue;
        }
        let changed = false;
        if (existing.name !== entry.name || existing.matchPattern !== entry.matchPattern || existing.tokenizer !== entry.tokenizer) {
          Object.assign(existing, { name: entry.name, matchPattern: entry.matchPattern, tokenizer: entry.tokenizer, updatedAt: now });
          await this.definitions.update(existing, manager);
          result.updated++;
          changed = true;
        }
        const latest = views.get(existing.id)?.priceVersions.at(-1);
        if (!latest || fingerprint(latest.tiers) !== fingerprint(tiersOf(entry))) {
          const after = latest ? Date.parse(latest.effectiveFrom) + 1 : 0;
          const effectiveFrom = new Date(Math.max(now.getTime(), Date.parse(entry.effectiveFrom), after));
          await this.definitions.insertVersion(versionRows(existing.id, effectiveFrom, tiersOf(entry)), manager);
          result.versionsAdded++;
          changed = true;
        }
        if (!changed) result.unchanged++;
      }
      return result;
    });
    if (applied.inserted + applied.updated + applied.versionsAdded > 0) {
      this.bus.publishAfterCommit('registry.v1.events.model-definition-changed', {
        id: 'catalogue',
        scope: { organisationId: SYSTEM_ORGANISATION_ID, projectId: null },
        change: 'updated',
        at: this.clock.now().toISOString(),
      });
    }
    return applied;
  }

  private async insert(entry: CatalogueEntry, now: Date, manager: EntityManager): Promise<void> {
    const definition = Object.assign(new ModelDefinitionEntity(), {
      id: newId('mdef'),
      organisationId: SYSTEM_ORGANISATION_ID,
      projectId: null,
      name: entry.name,
      matchPattern: entry.matchPattern,
      tokenizer: entry.tokenizer,
      source: 'system' as const,
      priority: 0,
      catalogueKey: entry.key,
      lastUsedAt: null,
      createdAt: now,
      updatedAt: now,
    });
    const outcome = await this.definitions.insertWithPrices(definition, versionRows(definition.id, new Date(entry.effectiveFrom), tiersOf(entry)), manager);
    if (outcome === 'name-taken') throw new Error(`catalogue entry ${entry.key}: another System definition is named ${entry.name}`);
  }
}

function tiersOf(entry: CatalogueEntry): NormalisedTier[] {
  return entry.tiers.map((t) => ({ name: t.name, isDefault: t.isDefault, priority: t.priority, conditions: t.conditions, prices: normalisePrices(t.prices) }));
}

/** Two tier lists with the same fingerprint price every usage record the same. */
function fingerprint(tiers: ReadonlyArray<PriceTierView | NormalisedTier>): string {
  const canonical = tiers
    .map((t) => ({
      name: t.name,
      isDefault: t.isDefault,
      priority: t.priority,
      conditions: t.conditions.map((c) => ({ usageTypes: [...c.usageTypes].sort(), operator: c.operator, value: c.value })),
      prices: (Array.isArray(t.prices) ? t.prices : Object.entries(t.prices)).map(([k, v]) => [k, v]).sort(([a], [b]) => (a! < b! ? -1 : 1)),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  return JSON.stringify(canonical);
}
