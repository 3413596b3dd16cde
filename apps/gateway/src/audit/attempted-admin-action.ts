/**
 * The audit action of an /admin route that creates, changes, deletes, reveals or runs something,
 * named as the owning service names it; null for reads, which are not audited when refused at
 * the door. A mutating route missing here is still audited, under its method and path.
 */
const ACTIONS: Record<string, string> = {
  'POST /admin/connections': 'connection.created',
  'PATCH /admin/connections/:id': 'connection.updated',
  'POST /admin/connections/:id/test': 'connection.tested',
  'POST /admin/connections/:id/reveal': 'connection.revealed',
  'DELETE /admin/connections/:id': 'connection.deleted',
  'POST /admin/vault/rotate-master-key': 'master_key.rotated',
  'POST /admin/config/import': 'config.imported',
  'POST /admin/provider-models': 'provider_model.created',
  'PATCH /admin/provider-models/:id': 'provider_model.updated',
  'DELETE /admin/provider-models/:id': 'provider_model.deleted',
  'POST /admin/model-rewrite-rules': 'model_rewrite_rule.created',
  'PATCH /admin/model-rewrite-rules/:id': 'model_rewrite_rule.updated',
  'DELETE /admin/model-rewrite-rules/:id': 'model_rewrite_rule.deleted',
  'POST /admin/model-definitions': 'model_definition.created',
  'DELETE /admin/model-definitions/:id': 'model_definition.deleted',
  'PATCH /admin/model-definitions/:id': 'model_definition.updated',
  'POST /admin/model-definitions/:id/versions': 'model_definition.version_added',
  'POST /admin/gateway-keys': 'gateway_key.created',
  'PATCH /admin/gateway-keys/:id': 'gateway_key.updated',
  'DELETE /admin/gateway-keys/:id': 'gateway_key.revoked',
  'POST /admin/playground/runs': 'playground.run',
  'POST /admin/usage/unpriced/reprice': 'usage.repriced',
};

export function attemptedAdminAction(method: string, routeUrl: string | undefined): string | null {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return null;
  const route = `${method} ${routeUrl ?? '?'}`;
  return ACTIONS[route] ?? route;
}
