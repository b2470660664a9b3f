import * as ipaddr from 'ipaddr.js';

/** Cloud instance-metadata services, named on their own so a refusal says what it protected. */
const CLOUD_METADATA = new Set([
  '169.254.169.254',
  '169.254.170.2',
  '100.100.100.200',
  'fd00:ec2::254',
  'fd00:ec2::23',
]);

/** IANA has allocated only 2000::/3 as global unicast; ipaddr.js calls the rest of ::/0 unicast too. */
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

/** ipaddr.js range names as a refusal says them. */
const RANGE_NAMES: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private',
  uniqueLocal: 'unique-local (private)',
  reserved: 'reserved',
};

/**
 * What `address` is when a webhook may not be delivered to it ("a loopback address"), or undefined when it may (a globally routable
 * unicast address). IPv4-mapped IPv6 is judged as the IPv4 address it carries; anything ipaddr.js
 * files under a special range — loopback, private, link-local, CGNAT, multicast, reserved,
 * documentation, unspecified, and the IPv6 forms that embed or translate to IPv4 (NAT64, 6to4,
 * Teredo) — is refused, and so is IPv6 outside 2000::/3.
 */
export function forbiddenAddressKind(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  const parsed = ipaddr.process(address);
  if (CLOUD_METADATA.has(parsed.toString())) return 'a cloud metadata address';
  const range = parsed.range();
  if (range !== 'unicast') return `a ${RANGE_NAMES[range] ?? range} address`;
  if (parsed.kind() === 'ipv6' && !parsed.match(IPV6_GLOBAL_UNICAST)) return 'a reserved address';
  return undefined;
}
