import { BadRequestException, Injectable } from '@nestjs/common';
import * as ipaddr from 'ipaddr.js';
import { IpEnrichmentService } from './enrichment/ip-enrichment.service';
import { IpFeedsService } from './feeds/ip-feeds.service';
import { InvalidIpAddressError, IpNetwork, isPublicScope, parseIpAddress, parseIpNetwork } from './ip-address';
import type { IpVerdict } from './ip-scoring';
import { IpReportsRepository } from './repositories/ip-reports.repository';
import { IpSnapshotsRepository } from './repositories/ip-snapshots.repository';

/** Narrowest accepted prefix per family: a range check covers at most a /24 or a /48. */
export const WIDEST_PREFIX = { 4: 24, 6: 48 } as const;
/** Most addresses listed for one range (a /48 can hold far more than anyone has looked up). */
export const RANGE_ADDRESS_LIMIT = 1000;
/** Snapshots scanned to find each address's latest one. */
const SNAPSHOT_SCAN_LIMIT = 20_000;

export interface RangeAddress {
  ip: string;
  reports: number;
  lastReportedAt: string | null;
  score: number | null;
  verdict: IpVerdict | null;
}

export interface IpRangeView {
  network: string;
  asn: number | null;
  asOrg: string | null;
  country: string | null;
  feeds: Array<{ feed: string; prefix: string }>;
  addresses: RangeAddress[];
}

/**
 * `GET /v1/ip/ranges/:cidr` (docs/api.md, "Range check"): what Argus knows inside an IPv4 /24–/32
 * or IPv6 /48–/128 — the network's AS and country, the feed entries that hold or lie inside it,
 * and every address in it that was reported or looked up, with its counted reports and its
 * latest score and verdict (null when it was never looked up). Asks no provider.
 */
@Injectable()
export class IpRangesService {
  constructor(
    private readonly enrichment: IpEnrichmentService,
    private readonly feeds: IpFeedsService,
    private readonly reports: IpReportsRepository,
    private readonly snapshots: IpSnapshotsRepository,
  ) {}

  async check(cidr: string): Promise<IpRangeView> {
    const network = parseRange(cidr);
    const text = `${ipaddr.fromByteArray(network.bytes).toString()}/${network.prefixLen}`;
    const prefix = textPrefix(network);
    const [enrichment, reported, snapshots] = await Promise.all([
      this.enrichment.lookup(network.bytes),
      this.reports.summariseByPrefix(prefix, RANGE_ADDRESS_LIMIT * 4),
      this.snapshots.latestByPrefix(prefix, SNAPSHOT_SCAN_LIMIT),
    ]);
    const addresses = new Map<string, RangeAddress>();
    const inRange = (ip: string): boolean => contains(network, ip);
    for (const row of reported.filter((row) => inRange(row.ip))) {
      addresses.set(row.ip, {
        ip: row.ip,
        reports: row.reports,
        lastReportedAt: row.lastReportedAt.toISOString(),
        score: null,
        verdict: null,
      });
    }
    for (const snapshot of snapshots.filter((snapshot) => inRange(snapshot.ip))) {
      const known = addresses.get(snapshot.ip) ?? {
        ip: snapshot.ip,
        reports: 0,
        lastReportedAt: null,
        score: null,
        verdict: null,
      };
      addresses.set(snapshot.ip, { ...known, score: snapshot.score, verdict: snapshot.verdict });
    }
    return {
      network: text,
      asn: enrichment.asn,
      asOrg: enrichment.asOrg,
      country: enrichment.country,
      feeds: this.feeds.overlapping(network),
      addresses: [...addresses.values()].sort((a, b) => compareAddresses(a.ip, b.ip)).slice(0, RANGE_ADDRESS_LIMIT),
    };
  }
}

function parseRange(cidr: string): IpNetwork {
  let network: IpNetwork;
  try {
    network = parseIpNetwork(cidr);
  } catch (error) {
    if (error instanceof InvalidIpAddressError) throw new BadRequestException(`Not a CIDR range: ${error.message}`);
    throw error;
  }
  const widest = WIDEST_PREFIX[network.version];
  if (network.prefixLen < widest) {
    throw new BadRequestException(
      `A range check covers at most an IPv4 /24 or an IPv6 /48; /${network.prefixLen} is wider.`,
    );
  }
  const scope = parseIpAddress(ipaddr.fromByteArray(network.bytes).toString()).scope;
  if (!isPublicScope(scope)) {
    throw new BadRequestException(`${cidr} is in ${scope} address space: Argus knows nothing about it.`);
  }
  return network;
}

/**
 * A text prefix every address of the range starts with in canonical form, to narrow the database
 * query: `a.b.c.` for IPv4 (ranges are /24 or narrower); for IPv6 the leading non-zero groups of
 * the first three, each followed by `:` (a zero group may be written `0` or folded into `::`).
 */
function textPrefix(network: IpNetwork): string {
  const bytes = network.bytes;
  if (network.version === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.`;
  let prefix = '';
  for (let group = 0; group < 3; group++) {
    const value = (bytes[group * 2] << 8) | bytes[group * 2 + 1];
    if (value === 0) break;
    prefix += `${value.toString(16)}:`;
  }
  return prefix;
}

function contains(network: IpNetwork, ip: string): boolean {
  let bytes: number[];
  try {
    bytes = parseIpAddress(ip).bytes;
  } catch {
    return false;
  }
  if (bytes.length !== network.bytes.length) return false;
  for (let bit = 0; bit < network.prefixLen; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((bytes[bit >> 3] & mask) !== (network.bytes[bit >> 3] & mask)) return false;
  }
  return true;
}

function compareAddresses(a: string, b: string): number {
  const x = parseIpAddress(a).bytes;
  const y = parseIpAddress(b).bytes;
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
