import type { ConnectionView, ResolvedConnection, RevealedConnectionView } from '#libs/contracts';
import type { ConnectionCredentials } from './connection-secrets.js';
import type { ConnectionEntity } from './connection.entity.js';
import { maskFromLastFour } from './secret-mask.js';

/** The admin view: built from the row alone, so listing never decrypts anything. */
export function toConnectionView(row: ConnectionEntity): ConnectionView {
  return {
    id: row.id,
    organisationId: row.organisationId,
    projectId: row.projectId,
    name: row.name,
    adapter: row.adapter,
    baseUrl: row.baseUrl,
    apiKeyMasked: maskFromLastFour(row.apiKeyLast4),
    headersMasked: Object.fromEntries(row.headerNames.map((name, i) => [name, maskFromLastFour(row.headerValueLast4[i] ?? null)])),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toRevealedView(row: ConnectionEntity, credentials: ConnectionCredentials): RevealedConnectionView {
  return { ...toConnectionView(row), apiKey: credentials.apiKey, headers: credentials.headers };
}

export function toResolvedConnection(row: ConnectionEntity, credentials: ConnectionCredentials): ResolvedConnection {
  return {
    id: row.id,
    organisationId: row.organisationId,
    projectId: row.projectId,
    name: row.name,
    adapter: row.adapter,
    baseUrl: row.baseUrl,
    apiKey: credentials.apiKey,
    headers: credentials.headers,
    updatedAt: row.updatedAt.toISOString(),
  };
}
