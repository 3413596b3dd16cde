import { ADDRESS_CLASS_NAMES, type AddressClass } from './address-class.js';

/** The environment variable that lists exceptions; every refusal names it, so an operator knows the one setting to change. */
export const ALLOWLIST_ENV = 'UPSTREAM_ALLOWLIST';

/**
 * The gateway will not connect to an upstream address: it is not public and no UPSTREAM_ALLOWLIST
 * entry lets it through. Given to undici's connect callback, so the request fails with it.
 */
export class UpstreamAddressRefused extends Error {
  override name = 'UpstreamAddressRefused';
  /** A code undici does not treat as a recoverable socket error: every request queued on the connection fails with it. */
  readonly code = 'UPSTREAM_ADDRESS_REFUSED';

  constructor(
    /** The host as the upstream URL names it. */
    readonly host: string,
    readonly addressClass: AddressClass,
    /** The address that was checked (the host's resolved address, or the literal in canonical notation); undefined for a refused name. */
    readonly address: string | undefined,
  ) {
    super(`${describeTarget(host, address)} is ${ADDRESS_CLASS_NAMES[addressClass]}; the gateway does not connect to it unless ${ALLOWLIST_ENV} lets it through`);
  }

  /** For a create-time validation error on the field that holds the URL. */
  forField(field: string): string {
    return `${field} points at ${describeTarget(this.host, this.address)}, ${ADDRESS_CLASS_NAMES[this.addressClass]}, which the gateway does not call unless ${ALLOWLIST_ENV} lets it through (comma-separated CIDRs and host names)`;
  }

  /**
   * The same, for a caller of the API, who should learn the class and the setting but not where an
   * internal name resolves to.
   */
  get publicMessage(): string {
    return `${this.host} is ${ADDRESS_CLASS_NAMES[this.addressClass]}, which the gateway does not connect to. If this endpoint is yours (e.g. a self-hosted Ollama or vLLM), the operator can allow it with ${ALLOWLIST_ENV} (comma-separated CIDRs and host names).`;
  }
}

function describeTarget(host: string, address: string | undefined): string {
  if (address === undefined || address === host || `[${address}]` === host) return host;
  return `${host} (${address})`;
}
