import type { ProcessEnvironment } from '#libs/config';
import type { ConnectionView, ResolvedConnection, RevealedConnectionView } from '#libs/contracts';
import type { ConnectionCredentials } from './connection-secrets.js';
import type { ConnectionEntity } from './connection.entity.js';
import { maskFromLastFour } from './secret-mask.js';

/**
 * The admin view: built from the row alone, so listing never decrypts anything. With the
 * environment, a connection that reads a secret from an unset variable shows status error naming
 * it (the gateway refuses its calls for the same reason); an inactive one stays inactive.
 */
export function toConnectionView(row: ConnectionEntity, environment?: ProcessEnvironment): ConnectionView {
  const secretLast4 = row.secretLast4 ?? {};
  const unset = environment ? unsetVariables(row.secretEnvVars ?? {}, environment) : [];
  const envError = unset.length > 0 ? `environment_variable_unset: ${unset.map(([field, name]) => `${name} (${field})`).join(', ')} ${unset.length > 1 ? 'are' : 'is'} not set` : null;
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
    secretEnvVars: { ...(row.secretEnvVars ?? {}) },
    managedBy: row.managedBy ?? null,
    status: envError !== null && row.status !== 'inactive' ? 'error' : row.status,
    lastError: envError ?? row.lastError,
    lastErrorAt: envError !== null ? null : (row.lastErrorAt?.toISOString() ?? null),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The [field, variable] pairs whose variable is unset (or empty) in this process. */
export function unsetVariables(secretEnvVars: Readonly<Record<string, string>>, environment: ProcessEnvironment): [string, string][] {
  return Object.entries(secretEnvVars).filter(([, name]) => environment.get(name) === undefined);
}

export function toRevealedView(row: ConnectionEntity, credentials: ConnectionCredentials, environment?: ProcessEnvironment): RevealedConnectionView {
  return { ...toConnectionView(row, environment), apiKey: credentials.secrets.apiKey ?? null, headers: credentials.headers, secrets: credentials.secrets };
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
    secretEnvVars: { ...(row.secretEnvVars ?? {}) },
  };
}
