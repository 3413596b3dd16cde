import type { ProviderModelView } from '#libs/contracts';
import type { ProviderModelEntity } from './provider-model.entity.js';

export function toProviderModelView(row: ProviderModelEntity): ProviderModelView {
  const first = row.targets[0]!;
  return {
    id: row.id,
    organisationId: row.organisationId,
    projectId: row.projectId,
    name: row.name,
    displayName: row.displayName,
    kind: row.kind,
    targets: row.targets.map((t) => ({ connectionId: t.connectionId, upstreamModel: t.upstreamModel, weight: t.weight })),
    connectionId: first.connectionId,
    upstreamModel: first.upstreamModel,
    fallbacks: [...row.fallbacks],
    failoverByDefault: row.failoverByDefault,
    upstreamStreams: row.upstreamStreams,
    multimodal: row.multimodal,
    stages: [...row.stages],
    status: row.status,
    contextWindow: row.contextWindow,
    maxInputTokens: row.maxInputTokens,
    maxOutputTokens: row.maxOutputTokens,
    requestsPerMinute: row.requestsPerMinute,
    tokensPerMinute: row.tokensPerMinute,
    defaultParameters: { ...row.defaultParameters },
    managedBy: row.managedBy ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}
