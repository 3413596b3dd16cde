import { AdapterCallError, adapterError } from '#libs/adapter-sdk';

/**
 * Microsoft Entra ID access tokens for a service principal (OAuth 2.0 client credentials,
 * https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow),
 * cached per principal and refreshed before they expire: many calls share one token fetch, and
 * concurrent calls that find no valid token wait for the same fetch.
 */

export interface EntraCredentials {
  /** e.g. https://login.microsoftonline.com (sovereign clouds have their own). */
  authorityUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** https://cognitiveservices.azure.com/.default for Azure OpenAI. */
  scope: string;
}

/** How a token request reaches the authority: the call's guarded fetch (CallTarget.fetch); a test may inject one that counts calls. */
export type TokenFetch = (url: string, init: { method: 'POST'; headers: Record<string, string>; body: string }) => Promise<{ status: number; text(): Promise<string> }>;

interface CachedToken {
  accessToken: string;
  /** Epoch ms after which the token is fetched again (ahead of its real expiry). */
  refreshAt: number;
}

/** A token is replaced this long before it expires, so a call never sets out with one about to lapse. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** Entries are dropped past this many principals (a changed secret leaves its old entry behind). */
const MAX_CACHED_PRINCIPALS = 256;

/** The authority's answer that stops a token fetch, with its own words (AADSTS codes) but never the secret. */
export class EntraTokenError extends AdapterCallError {
  override name = 'EntraTokenError';

  constructor(kind: 'auth' | 'upstream_error', message: string, cause?: unknown) {
    super(adapterError(kind, message));
    // The gateway looks for an address refusal along the cause chain.
    if (cause !== undefined) this.cause = cause;
  }
}

export class EntraTokenSource {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<CachedToken>>();

  constructor(
    /** Used when a call brings no fetch of its own; there is no unguarded default. */
    private readonly fetchToken?: TokenFetch,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A valid access token for these credentials: the cached one, or one fetched now (once for all
   * concurrent callers) with `fetchToken`, the call's guarded fetch (CallTarget.fetch).
   */
  async token(c: EntraCredentials, fetchToken?: TokenFetch): Promise<string> {
    const key = `${c.authorityUrl}\u0000${c.tenantId}\u0000${c.clientId}\u0000${c.clientSecret}\u0000${c.scope}`;
    const cached = this.tokens.get(key);
    if (cached && this.now() < cached.refreshAt) return cached.accessToken;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetch(c, fetchToken ?? this.fetchToken).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const fresh = await pending;
    if (this.tokens.size >= MAX_CACHED_PRINCIPALS && !this.tokens.has(key)) this.tokens.clear();
    this.tokens.set(key, fresh);
    return fresh.accessToken;
  }

  private async fetch(c: EntraCredentials, fetchToken: TokenFetch | undefined): Promise<CachedToken> {
    const url = `${c.authorityUrl.replace(/\/+$/, '')}/${encodeURIComponent(c.tenantId)}/oauth2/v2.0/token`;
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, scope: c.scope }).toString();
    const startedAt = this.now();
    // Never the global fetch: it would follow redirects and dial whatever the name resolves to.
    if (!fetchToken) throw new EntraTokenError('upstream_error', 'no guarded HTTP function was given for the Entra ID token fetch (CallTarget.fetch)');
    let res: { status: number; text(): Promise<string> };
    try {
      res = await fetchToken(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body });
    } catch (err) {
      throw new EntraTokenError('upstream_error', `the Entra ID token endpoint ${url} could not be reached: ${err instanceof Error ? err.message : String(err)}`, err);
    }
    const text = await res.text();
    let json: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    if (res.status !== 200 || !json || typeof json.access_token !== 'string') {
      const reason = json && typeof json.error_description === 'string' ? json.error_description : json && typeof json.error === 'string' ? json.error : `HTTP ${res.status}`;
      // 400 and 401 are the authority refusing the principal (invalid_client, unauthorized_client); anything else is its own trouble.
      throw new EntraTokenError(res.status === 400 || res.status === 401 ? 'auth' : 'upstream_error', `the Entra ID token endpoint refused the service principal: ${reason}`);
    }
    // expires_in is seconds (a number, or a string from older endpoints); without it assume an hour.
    const expiresIn = Number(json.expires_in ?? 3600);
    const lifetimeMs = (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600) * 1000;
    // A short-lived token is refreshed at half its life rather than never cached.
    const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2);
    return { accessToken: json.access_token, refreshAt: startedAt + lifetimeMs - margin };
  }
}
