import { tokenCountAccuracy, type ModelDefinitionView, type PriceTierView, type PriceVersionView } from '#libs/contracts';
import type { ModelDefinitionEntity } from './model-definition.entity.js';
import type { ModelPriceTierEntity } from './model-price-tier.entity.js';
import type { ModelPriceEntity } from './model-price.entity.js';
import { normalisePrice } from './price-decimal.js';
import { previewOf, versionInForce } from './price-preview.js';

/** A definition's rows: the definition, its tiers and their prices. */
export interface DefinitionRows {
  definitions: ModelDefinitionEntity[];
  tiers: ModelPriceTierEntity[];
  prices: ModelPriceEntity[];
}

/** Views of definitions with their price versions (oldest first), each version's tiers (default first) and the preview in force at `now`. */
export function toModelDefinitionViews(rows: DefinitionRows, now: Date): ModelDefinitionView[] {
  const tierKey = (definitionId: string, at: Date, name: string) => `${definitionId}\u0000${at.getTime()}\u0000${name}`;
  const tierViews = new Map<string, PriceTierView>();
  const versionsById = new Map<string, Map<number, PriceVersionView>>();
  const sortedTiers = [...rows.tiers].sort(
    (a, b) => a.effectiveFrom.getTime() - b.effectiveFrom.getTime() || Number(b.isDefault) - Number(a.isDefault) || a.priority - b.priority,
  );
  for (const t of sortedTiers) {
    const versions = versionsById.get(t.definitionId) ?? new Map<number, PriceVersionView>();
    versionsById.set(t.definitionId, versions);
    const key = t.effectiveFrom.getTime();
    const version = versions.get(key) ?? { effectiveFrom: t.effectiveFrom.toISOString(), prices: {}, tiers: [] };
    versions.set(key, version);
    const view: PriceTierView = { name: t.name, isDefault: t.isDefault, priority: t.priority, conditions: t.conditions, prices: {} };
    if (t.isDefault) view.prices = version.prices; // one object: the version's prices are the default tier's
    version.tiers.push(view);
    tierViews.set(tierKey(t.definitionId, t.effectiveFrom, t.name), view);
  }
  for (const p of rows.prices) {
    const tier = tierViews.get(tierKey(p.definitionId, p.effectiveFrom, p.tier));
    if (tier) tier.prices[p.usageType] = normalisePrice(p.price);
  }
  return rows.definitions.map((d) => {
    const priceVersions = [...(versionsById.get(d.id)?.values() ?? [])];
    const inForce = versionInForce(priceVersions, now);
    return {
      id: d.id,
      organisationId: d.organisationId,
      projectId: d.projectId,
      name: d.name,
      matchPattern: d.matchPattern,
      tokenizer: d.tokenizer,
      tokenCount: tokenCountAccuracy(d.tokenizer),
      source: d.source,
      priority: d.priority,
      priceVersions,
      preview: inForce ? previewOf(d.id, inForce) : null,
      lastUsedAt: d.lastUsedAt?.toISOString() ?? null,
      createdAt: d.createdAt.toISOString(),
      updatedAt: d.updatedAt.toISOString(),
    };
  });
}
