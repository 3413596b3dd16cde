import type { ProviderModelView } from '#libs/contracts';
import type { ProviderModelEntity } from './provider-model.entity.js';

export function toProviderModelView(row: ProviderModelEntity): ProviderModelView {
  return {
    id: row.id,
    organisationId: row.organisationId,
    projectId: row.projectId,
    name: row.name,
    connectionId: row.connectionId,
    upstreamModel: row.upstreamModel,
    maxInputTokens: row.maxInputTokens,
    maxOutputTokens: row.maxOutputTokens,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
