import ipaddr from 'ipaddr.js';
import type { AddressVerdict } from './address-class.js';

/** RFC 1123 host name, optionally `*.` for every name under a domain. Syntax only; addresses never go through it. */
const HOST_NAME = /^(\*\.)?(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export class AllowListError extends Error {
  override name = 'AllowListError';
  constructor(readonly badEntries: string[]) {
    super(`${badEntries.map((e) => JSON.stringify(e)).join(', ')} ${badEntries.length === 1 ? 'is' : 'are'} neither a CIDR (10.0.0.0/8, fd00::/8), an IP address nor a host name (ollama.internal, *.corp.example)`);
  }
}

/** A host name lower-cased, without the trailing dot of a fully qualified name. */
export function normaliseHostName(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * The operator's exceptions (UPSTREAM_ALLOWLIST): address ranges and host names of self-hosted
 * endpoints on private networks that the gateway may call. Cloud metadata addresses pass only
 * through an entry that is exactly that address: a range such as 169.254.0.0/16, meant for some
 * link-local endpoint, must not open the instance's credentials with it.
 */
export class UpstreamAllowList {
  private constructor(
    private readonly ranges: ReadonlyArray<[ipaddr.IPv4 | ipaddr.IPv6, number]>,
    private readonly names: ReadonlySet<string>,
    private readonly suffixes: readonly string[],
  ) {}

  static readonly empty = new UpstreamAllowList([], new Set(), []);

  /**
   * Reads a comma-separated list of CIDRs, single addresses and host names.
   * @throws AllowListError naming every entry that is none of these
   */
  static parse(text: string | undefined): UpstreamAllowList {
    const ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
    const names = new Set<string>();
    const suffixes: string[] = [];
    const bad: string[] = [];
    for (const raw of (text ?? '').split(',')) {
      const entry = raw.trim();
      if (entry === '') continue;
      if (entry.includes('/')) {
        try {
          ranges.push(ipaddr.parseCIDR(entry));
        } catch {
          bad.push(entry);
        }
      } else if (ipaddr.isValid(entry)) {
        const address = ipaddr.parse(entry);
        ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
      } else if (HOST_NAME.test(normaliseHostName(entry))) {
        const name = normaliseHostName(entry);
        if (name.startsWith('*.')) suffixes.push(name.slice(1));
        else names.add(name);
      } else {
        bad.push(entry);
      }
    }
    if (bad.length > 0) throw new AllowListError(bad);
    return new UpstreamAllowList(ranges, names, suffixes);
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0 && this.names.size === 0 && this.suffixes.length === 0;
  }

  /** Whether the host name itself is listed (exactly, or under a `*.` entry). */
  allowsHostName(host: string): boolean {
    if (this.names.size === 0 && this.suffixes.length === 0) return false;
    const name = normaliseHostName(host);
    return this.names.has(name) || this.suffixes.some((suffix) => name.endsWith(suffix));
  }

  /** Whether the host name is listed as such (a `*.` entry does not count). */
  listsHostNameExactly(host: string): boolean {
    return this.names.has(normaliseHostName(host));
  }

  /** Whether a listed range holds the address (or the IPv4 address it carries). */
  allowsAddress(verdict: AddressVerdict): boolean {
    if (this.ranges.length === 0) return false;
    const candidates = [ipaddr.parse(verdict.address)];
    if (verdict.embeddedIPv4 !== undefined) candidates.push(ipaddr.parse(verdict.embeddedIPv4));
    const exactOnly = verdict.addressClass === 'cloud-metadata';
    return this.ranges.some(([range, bits]) =>
      candidates.some(
        (candidate) =>
          candidate.kind() === range.kind() &&
          (!exactOnly || bits === (range.kind() === 'ipv4' ? 32 : 128)) &&
          (candidate as ipaddr.IPv4).match(range as ipaddr.IPv4, bits),
      ),
    );
  }
}
