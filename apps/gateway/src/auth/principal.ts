import type { CommandEnvelope, KeyRole, TenantScope } from '#libs/contracts';

/** The caller behind a gateway key, as the read model knows it. */
export interface Principal {
  keyId: string;
  name: string;
  role: KeyRole;
  organisationId: string;
  projectId: string | null;
  /** The key's own per-minute limits (issue 15.4); absent or null = none. */
  requestsPerMinute?: number | null;
  tokensPerMinute?: number | null;
}

export function scopeOf(principal: Principal): TenantScope {
  return { organisationId: principal.organisationId, projectId: principal.projectId };
}

export function envelopeFor<T>(principal: Principal, input: T): CommandEnvelope<T> {
  return { scope: scopeOf(principal), actor: { keyId: principal.keyId, name: principal.name }, input };
}

/** `Authorization: Bearer <key>`; Anthropic clients may send `x-api-key` instead. */
export function bearerToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') return auth.slice(7).trim();
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}
