import type { BudgetMode, BudgetPeriod, CommandEnvelope, KeyRole, TenantScope } from '#libs/contracts';
import type { Decimal } from '#libs/money';

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
  /** Epoch ms from which the key is refused; absent or null = never. */
  expiresAtMs?: number | null;
  /** The only models the key may call; absent or null = all of its scope. */
  allowedModels?: ReadonlySet<string> | null;
  /** The key's response cache (issue 15.6): a TTL in seconds = its calls are cached by default; absent or null = only when a request asks. */
  cacheTtlSeconds?: number | null;
  /** The key's owner, for header templates' {{user}} / {{email}}; absent = the key's name. */
  owner?: { name: string; email?: string } | null;
  /** The key's spend budget; absent or null = none. */
  budget?: PrincipalBudget | null;
}

export interface PrincipalBudget {
  /** The amount in the prices' currency, parsed once when the key is loaded. */
  amount: Decimal;
  period: BudgetPeriod;
  mode: BudgetMode;
}

/** Whether the key may call the model of this (resolved) name. */
export function mayCall(principal: Principal, model: string): boolean {
  return principal.allowedModels == null || principal.allowedModels.has(model);
}

/** Whether the key has expired (checked at each request: expiry needs no change event). */
export function isExpired(principal: Principal, now: number = Date.now()): boolean {
  return principal.expiresAtMs != null && now >= principal.expiresAtMs;
}

/** The answer to an expired key, the same on /v1 and /admin. */
export function expiredKeyMessage(principal: Principal): string {
  return `This gateway key expired at ${new Date(principal.expiresAtMs!).toISOString()}.`;
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
