import type { ModelDefinitionView, PriceVersionView } from '#libs/contracts';
import type { ModelDefinitionEntity } from './model-definition.entity.js';
import type { ModelPriceEntity } from './model-price.entity.js';
import { normalisePrice } from './price-decimal.js';

/** Views of definitions with their price versions, oldest version first. */
export function toModelDefinitionViews(definitions: ModelDefinitionEntity[], prices: ModelPriceEntity[]): ModelDefinitionView[] {
  const versionsById = new Map<string, Map<number, PriceVersionView>>();
  for (const p of [...prices].sort((a, b) => a.effectiveFrom.getTime() - b.effectiveFrom.getTime())) {
    const versions = versionsById.get(p.definitionId) ?? new Map<number, PriceVersionView>();
    versionsById.set(p.definitionId, versions);
    const key = p.effectiveFrom.getTime();
    const version = versions.get(key) ?? { effectiveFrom: p.effectiveFrom.toISOString(), prices: {} };
    versions.set(key, version);
    version.prices[p.usageType] = normalisePrice(p.price);
  }
  return definitions.map((d) => ({
    id: d.id,
    organisationId: d.organisationId,
    projectId: d.projectId,
    name: d.name,
    matchPattern: d.matchPattern,
    tokenizer: d.tokenizer,
    priceVersions: [...(versionsById.get(d.id)?.values() ?? [])],
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  }));
}
