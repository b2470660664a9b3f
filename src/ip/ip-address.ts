import * as ipaddr from 'ipaddr.js';

/**
 * Where an address lives, in the terms of the IANA IPv4/IPv6 Special-Purpose Address Registries.
 * Built on ipaddr.js `range()`, refined where it lumps distinct registry entries together
 * (documentation and benchmarking blocks inside its `reserved`; IPv6 outside 2000::/3).
 */
export type IpScope =
  | 'public'
  | 'private'
  | 'loopback'
  | 'link-local'
  | 'multicast'
  | 'carrier-grade-nat'
  | 'documentation'
  | 'benchmarking'
  | 'reserved'
  | 'unspecified'
  | 'broadcast'
  | 'unique-local'
  | 'site-local'
  | 'ipv4-mapped'
  | 'ipv4-translated'
  | 'nat64'
  | '6to4'
  | 'teredo'
  | 'as112'
  | 'amt'
  | 'orchid'
  | 'drone-remote-id'
  | 'segment-routing'
  | 'discard';

export type IpVersion = 4 | 6;

export interface ParsedIp {
  /** Canonical text: dotted decimal for IPv4, RFC 5952 (compressed, lower-case) for IPv6. */
  ip: string;
  version: IpVersion;
  scope: IpScope;
  /** Network-order bytes: 4 for IPv4, 16 for IPv6. */
  bytes: number[];
}

/** A network in CIDR terms, host bits cleared. A single address is a /32 or /128. */
export interface IpNetwork {
  version: IpVersion;
  bytes: number[];
  prefixLen: number;
}

export type InvalidIpReason =
  | 'empty'
  | 'too-long'
  | 'cidr'
  | 'zone-id'
  | 'non-canonical-ipv4'
  | 'ipv4-compatible'
  | 'bad-prefix-length'
  | 'malformed';

export class InvalidIpAddressError extends Error {
  override readonly name = 'InvalidIpAddressError';

  constructor(
    readonly reason: InvalidIpReason,
    message: string,
  ) {
    super(message);
  }
}

/** Longest legitimate text is 45 chars (full IPv6 with a dotted IPv4 tail); anything far longer is abuse. */
export const MAX_IP_TEXT_LENGTH = 64;

/**
 * Scopes whose addresses are globally reachable unicast per IANA ("Globally Reachable: True"),
 * i.e. addresses an upstream reputation source can meaningfully know about. AS112 and AMT are
 * anycast services on ordinary Internet addresses. 6to4, Teredo and NAT64 are left out: they embed
 * an IPv4 address, whose own reputation is the one worth asking about.
 */
const PUBLIC_SCOPES: ReadonlySet<IpScope> = new Set<IpScope>(['public', 'as112', 'amt']);

export function isPublicScope(scope: IpScope): boolean {
  return PUBLIC_SCOPES.has(scope);
}

/**
 * Parses one IPv4 or IPv6 address strictly. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is folded to IPv4.
 * Refuses anything ambiguous: zero-padded/octal/hex/short IPv4, CIDR, zone ids, `::a.b.c.d`.
 * @throws InvalidIpAddressError
 */
export function parseIpAddress(input: string): ParsedIp {
  assertPlausibleText(input);
  if (input.includes('/')) {
    throw new InvalidIpAddressError('cidr', 'A CIDR range is not an address; give a single IP address.');
  }
  const address = foldIpv4Mapped(parseAddressText(input));
  return {
    ip: address.toString(),
    version: versionOf(address),
    scope: scopeOf(address),
    bytes: address.toByteArray(),
  };
}

/**
 * Parses `address` or `address/prefix` (same strictness as parseIpAddress) and clears host bits,
 * so `10.0.0.1/8` becomes 10.0.0.0/8. IPv4-mapped IPv6 networks of /96 or longer fold to IPv4.
 * @throws InvalidIpAddressError
 */
export function parseIpNetwork(input: string): IpNetwork {
  assertPlausibleText(input);
  const slash = input.indexOf('/');
  const addressText = slash === -1 ? input : input.slice(0, slash);
  const address = parseAddressText(addressText);
  const maxPrefix = address instanceof ipaddr.IPv4 ? 32 : 128;
  const prefixLen = slash === -1 ? maxPrefix : parsePrefixLength(input.slice(slash + 1), maxPrefix);
  return foldMappedNetwork(address, prefixLen);
}

function assertPlausibleText(input: string): void {
  if (input.length === 0) {
    throw new InvalidIpAddressError('empty', 'The IP address is empty.');
  }
  if (input.length > MAX_IP_TEXT_LENGTH) {
    throw new InvalidIpAddressError('too-long', `An IP address is at most ${MAX_IP_TEXT_LENGTH} characters long.`);
  }
}

function parseAddressText(text: string): ipaddr.IPv4 | ipaddr.IPv6 {
  if (text.includes('%')) {
    throw new InvalidIpAddressError('zone-id', 'IPv6 zone identifiers (such as %eth0) are not accepted.');
  }
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

function parseIpv4(text: string): ipaddr.IPv4 {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return ipaddr.IPv4.parse(text);
  }
  if (ipaddr.IPv4.isValid(text)) {
    // ipaddr.js also reads "010.1.1.1" as octal, "0xa.1.1.1" as hex and "10.1" as 10.0.0.1;
    // other tools read those differently, so we refuse rather than guess.
    throw new InvalidIpAddressError(
      'non-canonical-ipv4',
      `${JSON.stringify(text)} is not a plain IPv4 address: write four decimal numbers 0-255 without leading zeros.`,
    );
  }
  throw malformed(text);
}

function parseIpv6(text: string): ipaddr.IPv6 {
  if (!ipaddr.IPv6.isValid(text)) {
    throw malformed(text);
  }
  assertStrictDottedTail(text);
  return ipaddr.IPv6.parse(text);
}

/** ipaddr.js checks an embedded dotted IPv4 tail more loosely than a bare IPv4 address. */
function assertStrictDottedTail(text: string): void {
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (!tail.includes('.')) {
    return;
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(tail)) {
    throw new InvalidIpAddressError(
      'non-canonical-ipv4',
      `The IPv4 part of ${JSON.stringify(text)} must be four decimal numbers 0-255 without leading zeros.`,
    );
  }
  // ipaddr.js reads "::a.b.c.d" as IPv4-mapped, but RFC 4291 defines it as the deprecated
  // IPv4-compatible form ::a.b.c.d (no ffff). Two readings, so neither is safe.
  if (text.slice(0, lastColon + 1) === '::') {
    throw new InvalidIpAddressError(
      'ipv4-compatible',
      `${JSON.stringify(text)} is a deprecated IPv4-compatible address; write ${tail} or ::ffff:${tail}.`,
    );
  }
}

function parsePrefixLength(text: string, max: number): number {
  const value = Number(text);
  // String(Number(x)) === x admits only plain decimal integers: no "08", "+8", " 8", "8.0" or "1e1".
  if (text.length === 0 || String(value) !== text || !Number.isInteger(value) || value < 0 || value > max) {
    throw new InvalidIpAddressError('bad-prefix-length', `The prefix length must be a whole number from 0 to ${max}.`);
  }
  return value;
}

function malformed(text: string): InvalidIpAddressError {
  return new InvalidIpAddressError('malformed', `${JSON.stringify(text)} is not an IPv4 or IPv6 address.`);
}

function foldIpv4Mapped(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

const IPV4_MAPPED_PREFIX_BITS = 96;

function foldMappedNetwork(address: ipaddr.IPv4 | ipaddr.IPv6, prefixLen: number): IpNetwork {
  const mappedIntoV4 =
    address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() && prefixLen >= IPV4_MAPPED_PREFIX_BITS;
  const network = mappedIntoV4 ? foldIpv4Mapped(address) : address;
  const networkPrefix = mappedIntoV4 ? prefixLen - IPV4_MAPPED_PREFIX_BITS : prefixLen;
  return {
    version: versionOf(network),
    bytes: clearHostBits(network.toByteArray(), networkPrefix),
    prefixLen: networkPrefix,
  };
}

export function clearHostBits(bytes: readonly number[], prefixLen: number): number[] {
  return bytes.map((byte, index) => {
    const bitsKept = Math.min(8, Math.max(0, prefixLen - index * 8));
    return byte & (0xff << (8 - bitsKept)) & 0xff;
  });
}

function versionOf(address: ipaddr.IPv4 | ipaddr.IPv6): IpVersion {
  return address instanceof ipaddr.IPv4 ? 4 : 6;
}

// ---------------------------------------------------------------------------------------------
// Scope classification
// ---------------------------------------------------------------------------------------------

/** ipaddr.js range names (2.5, both families) → contract scope names. */
const RANGE_SCOPES: ReadonlyMap<string, IpScope> = new Map<string, IpScope>([
  ['unicast', 'public'],
  ['unspecified', 'unspecified'],
  ['broadcast', 'broadcast'],
  ['multicast', 'multicast'],
  ['linkLocal', 'link-local'],
  ['loopback', 'loopback'],
  ['carrierGradeNat', 'carrier-grade-nat'],
  ['private', 'private'],
  ['reserved', 'reserved'],
  ['benchmarking', 'benchmarking'],
  ['as112', 'as112'],
  ['as112v6', 'as112'],
  ['amt', 'amt'],
  ['uniqueLocal', 'unique-local'],
  ['deprecatedSiteLocal', 'site-local'],
  ['ipv4Mapped', 'ipv4-mapped'], // unreachable from parseIpAddress, which folds these to IPv4
  ['rfc6145', 'ipv4-translated'],
  ['rfc6052', 'nat64'],
  ['6to4', '6to4'],
  ['teredo', 'teredo'],
  ['deprecatedOrchid', 'orchid'],
  ['orchid2', 'orchid'],
  ['droneRemoteIdProtocolEntityTags', 'drone-remote-id'],
  ['segmentRouting', 'segment-routing'],
  ['discard', 'discard'],
]);

interface ScopeRule {
  scope: IpScope;
  networks: readonly string[];
}

/** Registry entries ipaddr.js files under a broader name; checked before its `range()`. */
const IPV4_RULES: readonly ScopeRule[] = [
  { scope: 'unspecified', networks: ['0.0.0.0/32'] },
  // The rest of 0.0.0.0/8 is "this network" (RFC 791): never a valid destination.
  { scope: 'reserved', networks: ['0.0.0.0/8'] },
  { scope: 'documentation', networks: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'] },
  { scope: 'benchmarking', networks: ['198.18.0.0/15'] },
];

const IPV6_RULES: readonly ScopeRule[] = [{ scope: 'documentation', networks: ['2001:db8::/32', '3fff::/20'] }];

/** IANA has allocated only 2000::/3 as global unicast; the rest of what ipaddr calls unicast is reserved. */
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

interface CompiledRule<A> {
  scope: IpScope;
  networks: Array<[A, number]>;
}

const COMPILED_IPV4_RULES = IPV4_RULES.map((rule) => compileRule(rule, (cidr) => ipaddr.IPv4.parseCIDR(cidr)));
const COMPILED_IPV6_RULES = IPV6_RULES.map((rule) => compileRule(rule, (cidr) => ipaddr.IPv6.parseCIDR(cidr)));

function compileRule<A>(rule: ScopeRule, parse: (cidr: string) => [A, number]): CompiledRule<A> {
  return { scope: rule.scope, networks: rule.networks.map(parse) };
}

function scopeOf(address: ipaddr.IPv4 | ipaddr.IPv6): IpScope {
  if (address instanceof ipaddr.IPv4) {
    return ruleScope(address, COMPILED_IPV4_RULES) ?? rangeScope(address.range());
  }
  const scope = ruleScope(address, COMPILED_IPV6_RULES) ?? rangeScope(address.range());
  return scope === 'public' && !address.match(IPV6_GLOBAL_UNICAST) ? 'reserved' : scope;
}

function ruleScope<A extends ipaddr.IPv4 | ipaddr.IPv6>(
  address: A,
  rules: ReadonlyArray<CompiledRule<A>>,
): IpScope | undefined {
  return rules.find((rule) => rule.networks.some((network) => address.match(network)))?.scope;
}

/** A range name this table does not know (a future ipaddr.js) is treated as reserved: never public. */
function rangeScope(range: string): IpScope {
  return RANGE_SCOPES.get(range) ?? 'reserved';
}
