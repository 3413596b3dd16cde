import type { ConnectionView, ResolvedConnection, RevealedConnectionView } from '#libs/contracts';
import type { ConnectionCredentials } from './connection-secrets.js';
import type { ConnectionEntity } from './connection.entity.js';
import { maskFromLastFour } from './secret-mask.js';

/** The admin view: built from the row alone, so listing never decrypts anything. */
export function toConnectionView(row: ConnectionEntity): ConnectionView {
  const secretLast4 = row.secretLast4 ?? {};
  return {
    id: row.id,
    organisationId: row.organisationId,
    projectId: row.projectId,
    name: row.name,
    slug: row.slug,
    adapter: row.adapter,
    baseUrl: row.baseUrl,
    apiKeyMasked: 'apiKey' in secretLast4 ? maskFromLastFour(secretLast4.apiKey ?? null) : null,
    headersMasked: Object.fromEntries(row.headerNames.map((name, i) => [name, maskFromLastFour(row.headerValueLast4[i] ?? null)])),
    settings: { ...row.settings },
    secretsMasked: Object.fromEntries(Object.entries(secretLast4).map(([name, last4]) => [name, maskFromLastFour(last4)])),
    status: row.status,
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toRevealedView(row: ConnectionEntity, credentials: ConnectionCredentials): RevealedConnectionView {
  return { ...toConnectionView(row), apiKey: credentials.secrets.apiKey ?? null, headers: credentials.headers, secrets: credentials.secrets };
}

export function toResolvedConnection(row: ConnectionEntity, credentials: ConnectionCredentials): ResolvedConnection {
  return {
    id: row.id,
    organisationId: row.organisationId,
    projectId: row.projectId,
    name: row.name,
    slug: row.slug,
    adapter: row.adapter,
    baseUrl: row.baseUrl,
    apiKey: credentials.secrets.apiKey ?? '',
    headers: credentials.headers,
    settings: { ...row.settings },
    secrets: credentials.secrets,
    status: row.status,
    updatedAt: row.updatedAt.toISOString(),
  };
}
