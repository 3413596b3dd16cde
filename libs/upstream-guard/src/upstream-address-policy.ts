import { classifyAddress, METADATA_HOST_NAMES, parseAddress } from './address-class.js';
import { normaliseHostName, UpstreamAllowList } from './upstream-allow-list.js';
import { UpstreamAddressRefused } from './upstream-address-refused.js';

/**
 * Which upstream addresses the gateway may call: public addresses, and what the allow-list lets
 * through. One policy for the vault's create-time check and the gateway's connect-time check.
 */
export class UpstreamAddressPolicy {
  constructor(readonly allowList: UpstreamAllowList) {}

  static fromAllowList(text: string | undefined): UpstreamAddressPolicy {
    return new UpstreamAddressPolicy(UpstreamAllowList.parse(text));
  }

  /**
   * Checks an address `host` resolved to (or the literal `host` itself). Any notation of the
   * address is accepted; it is judged after normalisation.
   * @returns the refusal, or undefined when the address may be called
   */
  checkAddress(host: string, address: string): UpstreamAddressRefused | undefined {
    const verdict = classifyAddress(address);
    if (verdict === undefined) return new UpstreamAddressRefused(host, 'reserved', address);
    if (verdict.addressClass === 'public') return undefined;
    if (this.allowList.allowsAddress(verdict)) return undefined;
    if (verdict.addressClass !== 'cloud-metadata' && parseAddress(host) === undefined && this.allowList.allowsHostName(host)) return undefined;
    return new UpstreamAddressRefused(host, verdict.addressClass, verdict.address);
  }

  /** Refuses the names of cloud metadata services before anything resolves them, unless listed exactly. */
  checkHostName(host: string): UpstreamAddressRefused | undefined {
    const name = normaliseHostName(host);
    if (METADATA_HOST_NAMES.has(name) && !this.allowList.listsHostNameExactly(name)) return new UpstreamAddressRefused(host, 'cloud-metadata', undefined);
    return undefined;
  }

  /**
   * The create-time check of an upstream URL: an address literal in any notation is judged, a
   * metadata host name is refused; other names pass (they are checked on every new connection,
   * on what they resolve to then).
   */
  checkUrl(url: string): UpstreamAddressRefused | undefined {
    let hostname: string;
    try {
      hostname = new URL(url).hostname;
    } catch {
      return undefined; // not a URL: the DTO's own validation says so
    }
    return parseAddress(hostname) !== undefined ? this.checkAddress(hostname, hostname) : this.checkHostName(hostname);
  }
}
