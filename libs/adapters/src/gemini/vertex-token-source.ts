import { AdapterCallError, adapterError, isRecord, type UpstreamFetch } from '#libs/adapter-sdk';

/** The OAuth scope Vertex AI takes (https://cloud.google.com/vertex-ai/docs/authentication). */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** Where google-auth-library sends its JWT grant; the account's own token_uri replaces it when different. */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
/** Refresh this long before expiry at most (google-auth-library's own eager-refresh default). */
const MAX_REFRESH_MARGIN_MS = 5 * 60_000;
/** The codes the gateway's guarded fetch rejects with when it refuses to dial or to follow (libs/upstream-guard). */
const GUARD_REFUSALS = new Set(['UPSTREAM_ADDRESS_REFUSED', 'UPSTREAM_REDIRECT_REFUSED']);
/** Connections (service accounts) whose token is kept; the oldest goes first beyond it. */
const MAX_ENTRIES = 1000;

/** The fields of a service-account key file the token exchange needs. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
  project_id?: string;
}

/** A service-account key file's JSON checked: what is wrong with it, or the key. Never throws. */
export function parseServiceAccountKey(json: string): { key: ServiceAccountKey } | { problem: string } {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return { problem: 'must be the JSON of a service-account key file' };
  }
  if (!isRecord(v)) return { problem: 'must be a JSON object (a service-account key file)' };
  if (v.type !== 'service_account') return { problem: `must be a key of type service_account (got ${JSON.stringify(v.type ?? null)})` };
  if (typeof v.client_email !== 'string' || !v.client_email.includes('@')) return { problem: 'has no client_email' };
  if (typeof v.private_key !== 'string' || !v.private_key.includes('PRIVATE KEY')) return { problem: 'has no PEM private_key' };
  if (v.token_uri !== undefined) {
    let url: URL | undefined;
    try {
      url = typeof v.token_uri === 'string' ? new URL(v.token_uri) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return { problem: 'has a token_uri that is not an http(s) URL' };
  }
  const key: ServiceAccountKey = { client_email: v.client_email, private_key: v.private_key };
  if (typeof v.private_key_id === 'string') key.private_key_id = v.private_key_id;
  if (typeof v.token_uri === 'string') key.token_uri = v.token_uri;
  if (typeof v.project_id === 'string') key.project_id = v.project_id;
  return { key };
}

export interface AccessToken {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** Fetches one fresh token for a service account (one network round trip) with the call's guarded fetch. */
export type TokenFetcher = (key: ServiceAccountKey, fetch: UpstreamFetch | undefined) => Promise<AccessToken>;

/**
 * The JWT-bearer grant through google-auth-library, over the call's guarded fetch (its transporter's
 * fetchImplementation), so the token endpoint is dialled under the same address rules as upstream
 * calls. Its token URL is fixed to Google's; an account whose key names another token_uri (a
 * private endpoint, a test's fake) is sent there instead, by rewriting the URL on the client's own
 * transporter.
 */
export const fetchTokenWithGoogleAuth: TokenFetcher = async (key, fetch) => {
  // Never the library's default (the global fetch): it would dial whatever token_uri resolves to.
  if (!fetch) throw new AdapterCallError(adapterError('upstream_error', 'no guarded HTTP function was given for the OAuth token fetch (CallTarget.fetch)'));
  // The guard's refusal (an address, a redirect) is final: aborting the request's signal stops
  // gaxios from retrying it (it retries a request without an answer, with back-off, otherwise).
  const final = new AbortController();
  const guarded = (url: string | URL, init?: RequestInit): Promise<Response> =>
    fetch(url, init).catch((err: unknown) => {
      if (GUARD_REFUSALS.has(String((err as { code?: unknown } | undefined)?.code))) final.abort(err);
      throw err;
    });
  // Loaded on the first Vertex token rather than with the adapters: google-auth-library and gaxios
  // are megabytes of heap and code that a gateway without a Vertex connection never uses.
  const { JWT } = await import('google-auth-library');
  const client = new JWT({
    email: key.client_email,
    key: key.private_key,
    keyId: key.private_key_id,
    scopes: [CLOUD_PLATFORM_SCOPE],
    transporterOptions: { fetchImplementation: guarded as typeof globalThis.fetch },
  });
  const tokenUri = key.token_uri;
  client.transporter.interceptors.request.add({
    resolved: async (config) => {
      if (tokenUri && config.url.href === GOOGLE_TOKEN_URL) config.url = new URL(tokenUri);
      config.signal = config.signal ? AbortSignal.any([config.signal, final.signal]) : final.signal;
      return config;
    },
  });
  let credentials;
  try {
    credentials = await client.authorize();
  } catch (err) {
    throw tokenFailure(err);
  }
  const { access_token: token, expiry_date: expiresAt } = credentials;
  if (!token) throw new AdapterCallError(adapterError('upstream_error', 'the OAuth token endpoint answered no access_token'));
  return { token, expiresAt: expiresAt ?? Date.now() + 3600_000 };
};

/**
 * A failed token fetch in the taxonomy: the endpoint refusing the grant (4xx: a revoked key, a
 * deleted account, a bad signature) is auth, the operator's to fix; anything else (no answer, 5xx)
 * may pass.
 */
export function tokenFailure(err: unknown): AdapterCallError {
  const status = (err as { response?: { status?: unknown } } | undefined)?.response?.status;
  const detail = err instanceof Error ? err.message : String(err);
  const failure =
    typeof status === 'number' && status >= 400 && status < 500
      ? new AdapterCallError(adapterError('auth', `the service account's OAuth token was refused: ${detail}`, { status }))
      : new AdapterCallError(adapterError('upstream_error', `the service account's OAuth token could not be fetched: ${detail}`));
  // The gateway looks for an address refusal along the cause chain.
  failure.cause = err;
  return failure;
}

interface Entry {
  token?: AccessToken;
  /** Refresh once the clock passes it (before expiresAt). */
  refreshAt: number;
  inFlight?: Promise<AccessToken>;
}

/**
 * OAuth access tokens per service account, so a call never waits on a token fetch but the first and
 * one per refresh: a token is reused until a margin before its expiry (5 minutes, or half its life
 * when it lives less than 10), then fetched again; calls that find no usable token share the one
 * fetch in flight. Keyed by the key file's text itself, so a rotated secret gets its own token; the
 * gateway's read model hands the same string instance to every call, whose hash V8 keeps, so the
 * look-up costs no hashing of the ~2 KB text per call.
 */
export class VertexTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly fetchToken: TokenFetcher = fetchTokenWithGoogleAuth,
    private readonly now: () => number = Date.now,
  ) {}

  /** `fetch`: the call's guarded fetch (CallTarget.fetch), used when a token has to be fetched. */
  async token(serviceAccountJson: string, fetch?: UpstreamFetch): Promise<string> {
    let entry = this.entries.get(serviceAccountJson);
    const now = this.now();
    if (entry?.token && now < entry.refreshAt) return entry.token.token;
    if (!entry) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      entry = { refreshAt: 0 };
      this.entries.set(serviceAccountJson, entry);
    }
    // A token still valid while its successor is fetched serves the calls in between.
    const stillValid = entry.token && now < entry.token.expiresAt ? entry.token.token : undefined;
    if (!entry.inFlight) entry.inFlight = this.refresh(entry, serviceAccountJson, fetch);
    if (stillValid) {
      entry.inFlight.catch(() => undefined);
      return stillValid;
    }
    return (await entry.inFlight).token;
  }

  private async refresh(entry: Entry, serviceAccountJson: string, fetch: UpstreamFetch | undefined): Promise<AccessToken> {
    try {
      const parsed = parseServiceAccountKey(serviceAccountJson);
      if ('problem' in parsed) throw new AdapterCallError(adapterError('auth', `the service-account key ${parsed.problem}`));
      const fetchedAt = this.now();
      const token = await this.fetchToken(parsed.key, fetch);
      entry.token = token;
      entry.refreshAt = token.expiresAt - Math.min(MAX_REFRESH_MARGIN_MS, Math.max(0, (token.expiresAt - fetchedAt) / 2));
      return token;
    } finally {
      entry.inFlight = undefined;
    }
  }
}
