import ipaddr from 'ipaddr.js';

/**
 * What an upstream address is, as far as server-side request forgery goes. Only `public` is called
 * without an allow-list entry; every other class is an address inside some network the gateway
 * sits in (or one that means "this host", "everyone", or nothing routable).
 */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'reserved'
  | 'cloud-metadata';

/** The class with its article, as messages name it ("127.0.0.1 is a loopback address"). */
export const ADDRESS_CLASS_NAMES: Readonly<Record<AddressClass, string>> = {
  public: 'a public address',
  loopback: 'a loopback address',
  private: 'a private-network address',
  'link-local': 'a link-local address',
  'unique-local': 'an IPv6 unique-local address',
  cgnat: 'a carrier-grade NAT address (100.64.0.0/10)',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address (0.0.0.0 or ::)',
  broadcast: 'a broadcast address',
  reserved: 'a reserved address',
  'cloud-metadata': 'a cloud metadata address',
};

export interface AddressVerdict {
  /** The class that decides. For an IPv6 form that carries an IPv4 address, the worst of what it carries. */
  addressClass: AddressClass;
  /** The address in canonical notation (dotted quad; compressed IPv6 without zone). */
  address: string;
  /** The IPv4 address that decided, when an IPv6 form (mapped, compatible, NAT64, 6to4, Teredo) carries one. */
  embeddedIPv4?: string;
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Instance metadata services: they hand out cloud credentials to whoever asks from inside the
 * instance, the classic SSRF prize. AWS/GCP/Azure/OCI/DigitalOcean 169.254.169.254, AWS ECS task
 * metadata 169.254.170.2, EKS pod identity 169.254.170.23 and fd00:ec2::23, AWS IPv6 IMDS
 * fd00:ec2::254, Alibaba 100.100.100.200.
 */
const METADATA_ADDRESSES: ReadonlySet<string> = new Set(
  ['169.254.169.254', '169.254.170.2', '169.254.170.23', '100.100.100.200', 'fd00:ec2::254', 'fd00:ec2::23'].map((a) => ipaddr.parse(a).toNormalizedString()),
);

/** Names that resolve to a metadata service inside a cloud (GCP, AWS), compared lower-cased without a trailing dot. */
export const METADATA_HOST_NAMES: ReadonlySet<string> = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

const cidr = (text: string): Cidr => ipaddr.parseCIDR(text);
const IPV6_GLOBAL_UNICAST = cidr('2000::/3');
const IPV6_DOCUMENTATION = [cidr('2001:db8::/32'), cidr('3fff::/20')];
const NAT64_WELL_KNOWN = cidr('64:ff9b::/96');
const NAT64_LOCAL_USE = cidr('64:ff9b:1::/48');
const SIX_TO_FOUR = cidr('2002::/16');
const TEREDO = cidr('2001::/32');

const IPV4_RANGES: Readonly<Record<string, AddressClass>> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'cgnat',
  private: 'private',
  reserved: 'reserved',
  // AS112 and AMT are anycast services on the public internet.
  as112: 'public',
  amt: 'public',
  unicast: 'public',
};

const IPV6_RANGES: Readonly<Record<string, AddressClass>> = {
  unspecified: 'unspecified',
  linkLocal: 'link-local',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'private',
  amt: 'public',
  as112v6: 'public',
  droneRemoteIdProtocolEntityTags: 'public',
  unicast: 'public',
};

/**
 * Parses an address in any notation ipaddr.js knows: dotted quad, decimal (2130706433), hex
 * (0x7f000001), octal (0177.0.0.1), short forms (127.1), IPv6 with or without brackets and zone.
 * undefined when the text is not an address (a host name).
 */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!ipaddr.isValid(bare)) return undefined;
  return ipaddr.parse(bare);
}

/** Classifies an address given in any notation; undefined when the text is not an address. */
export function classifyAddress(text: string): AddressVerdict | undefined {
  const parsed = parseAddress(text);
  return parsed === undefined ? undefined : classifyParsed(parsed);
}

export function classifyParsed(address: ipaddr.IPv4 | ipaddr.IPv6): AddressVerdict {
  if (address.kind() === 'ipv4') {
    const v4 = address as ipaddr.IPv4;
    return { addressClass: classifyIPv4(v4), address: v4.toString() };
  }
  const v6 = withoutZone(address as ipaddr.IPv6);
  const canonical = v6.toString();
  if (METADATA_ADDRESSES.has(v6.toNormalizedString())) return { addressClass: 'cloud-metadata', address: canonical };
  const carried = embeddedIPv4(v6);
  if (carried.length > 0) {
    // A packet to one of these forms reaches (or is translated to) the IPv4 address it carries.
    // Of several readings (NAT64 local-use layouts), any forbidden one decides; the zeros another
    // layout reads as 0.0.0.0 name the class less well than a specific one.
    let worst: { v4: ipaddr.IPv4; addressClass: AddressClass } | undefined;
    for (const v4 of carried) {
      const addressClass = classifyIPv4(v4);
      const rank = (c: AddressClass): number => (c === 'public' ? 0 : c === 'unspecified' ? 1 : 2);
      if (worst === undefined || rank(addressClass) > rank(worst.addressClass)) worst = { v4, addressClass };
    }
    return { addressClass: worst!.addressClass, address: canonical, embeddedIPv4: worst!.v4.toString() };
  }
  if (IPV6_DOCUMENTATION.some((range) => v6.match(range))) return { addressClass: 'reserved', address: canonical };
  const addressClass = IPV6_RANGES[v6.range()] ?? 'reserved';
  // Outside 2000::/3 nothing is allocated for global unicast.
  if (addressClass === 'public' && !v6.match(IPV6_GLOBAL_UNICAST)) return { addressClass: 'reserved', address: canonical };
  return { addressClass, address: canonical };
}

function classifyIPv4(v4: ipaddr.IPv4): AddressClass {
  if (METADATA_ADDRESSES.has(v4.toString())) return 'cloud-metadata';
  return IPV4_RANGES[v4.range()] ?? 'reserved';
}

function withoutZone(v6: ipaddr.IPv6): ipaddr.IPv6 {
  return v6.zoneId === undefined ? v6 : new ipaddr.IPv6(v6.toByteArray());
}

/**
 * The IPv4 addresses an IPv6 address carries: IPv4-mapped (::ffff:0:0/96), IPv4-translated
 * (::ffff:0:0:0/96), IPv4-compatible (::/96 but :: and ::1), NAT64 (64:ff9b::/96, and each
 * RFC 6052 layout that fits in the local-use 64:ff9b:1::/48), 6to4 (2002::/16) and Teredo
 * (2001::/32: server and obfuscated client).
 */
function embeddedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4[] {
  const b = v6.toByteArray();
  const v4 = (p: number, q: number, r: number, s: number): ipaddr.IPv4 => new ipaddr.IPv4([b[p]!, b[q]!, b[r]!, b[s]!]);
  const zeros = (from: number, to: number): boolean => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return [v4(12, 13, 14, 15)];
  if (zeros(0, 8) && b[8] === 0xff && b[9] === 0xff && zeros(10, 12)) return [v4(12, 13, 14, 15)];
  if (zeros(0, 12) && !(zeros(12, 15) && b[15]! <= 1)) return [v4(12, 13, 14, 15)];
  if (v6.match(NAT64_WELL_KNOWN)) return [v4(12, 13, 14, 15)];
  if (v6.match(NAT64_LOCAL_USE)) {
    // RFC 6052 section 2.2: byte 8 (the "u" octet) is skipped; /48, /56, /64 and /96 layouts.
    return [v4(12, 13, 14, 15), v4(6, 7, 9, 10), v4(7, 9, 10, 11), v4(9, 10, 11, 12)];
  }
  if (v6.match(SIX_TO_FOUR)) return [v4(2, 3, 4, 5)];
  if (v6.match(TEREDO)) {
    const client = new ipaddr.IPv4([b[12]! ^ 0xff, b[13]! ^ 0xff, b[14]! ^ 0xff, b[15]! ^ 0xff]);
    return [client, v4(4, 5, 6, 7)];
  }
  return [];
}
