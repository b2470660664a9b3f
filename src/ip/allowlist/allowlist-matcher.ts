import * as ipaddr from 'ipaddr.js';
import { InvalidIpAddressError, parseIpNetwork } from '../ip-address';
import { PrefixTrie } from '../blocklist/prefix-trie';

/** One allowlist entry as the matcher needs it. */
export interface AllowlistRule {
  /** Canonical value: `192.0.2.0/24`, `2001:db8::/32`, `AS15169`. */
  value: string;
  /** Epoch ms after which the rule no longer applies; undefined: never expires. */
  expiresAt?: number;
}

export type ParsedAllowlistValue =
  { kind: 'network'; bytes: number[]; prefixLen: number } | { kind: 'asn'; asn: number };

const AS_VALUE = /^AS(\d{1,10})$/i;
const MAX_ASN = 4_294_967_295;

/**
 * Reads an allowlist value: a CIDR, a single address, or `AS<number>`. Answers its canonical form
 * (host bits cleared, IPv4-mapped folded, `AS` upper-case), or undefined when it is none of these.
 */
export function canonicalAllowlistValue(raw: string): { value: string; parsed: ParsedAllowlistValue } | undefined {
  const text = raw.trim();
  const as = AS_VALUE.exec(text);
  if (as) {
    const asn = Number(as[1]);
    return asn <= MAX_ASN ? { value: `AS${asn}`, parsed: { kind: 'asn', asn } } : undefined;
  }
  try {
    const { bytes, prefixLen } = parseIpNetwork(text);
    return {
      value: `${ipaddr.fromByteArray(bytes).toString()}/${prefixLen}`,
      parsed: { kind: 'network', bytes, prefixLen },
    };
  } catch (error) {
    if (error instanceof InvalidIpAddressError) return undefined;
    throw error;
  }
}

/** Matches addresses against allowlist rules: networks in prefix tries, AS numbers in a map. */
export class AllowlistMatcher {
  private readonly ipv4 = new PrefixTrie<number>(4, 16);
  private readonly ipv6 = new PrefixTrie<number>(16, 16);
  /** AS number → indexes of its rules. */
  private readonly asns = new Map<number, number[]>();

  constructor(private readonly rules: readonly AllowlistRule[]) {
    rules.forEach((rule, index) => {
      const parsed = canonicalAllowlistValue(rule.value)?.parsed;
      if (parsed === undefined) return;
      if (parsed.kind === 'asn') this.asns.set(parsed.asn, [...(this.asns.get(parsed.asn) ?? []), index]);
      else (parsed.bytes.length === 4 ? this.ipv4 : this.ipv6).insert(parsed.bytes, parsed.prefixLen, index);
    });
  }

  /** True when some AS rule exists: the caller must then know the address's AS number. */
  get hasAsnRules(): boolean {
    return this.asns.size > 0;
  }

  get size(): number {
    return this.rules.length;
  }

  /** The first rule in force that holds the address (by network, or by its AS number), if any. */
  match(bytes: readonly number[], asn: number | null, now: number): AllowlistRule | undefined {
    const trie = bytes.length === 4 ? this.ipv4 : this.ipv6;
    const byNetwork = trie.match(bytes) ?? [];
    const byAsn = asn === null ? [] : (this.asns.get(asn) ?? []);
    for (const index of [...byNetwork, ...byAsn]) {
      const rule = this.rules[index];
      if (rule.expiresAt === undefined || rule.expiresAt > now) return rule;
    }
    return undefined;
  }
}
