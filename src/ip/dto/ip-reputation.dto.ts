import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { IpScope, IpVersion } from '../ip-address';
import type { IpReputation, IpReputationVerdict, IpSourceResult } from '../ip-reputation.types';
import type { IpVerdict } from '../ip-scoring';

export const IP_VERDICTS: IpVerdict[] = ['clean', 'suspicious', 'malicious', 'unknown'];
export const IP_REPUTATION_VERDICTS: IpReputationVerdict[] = [...IP_VERDICTS, 'not-applicable'];
export const IP_SCOPES: IpScope[] = [
  'public',
  'private',
  'loopback',
  'link-local',
  'multicast',
  'carrier-grade-nat',
  'documentation',
  'benchmarking',
  'reserved',
  'unspecified',
  'broadcast',
  'unique-local',
  'site-local',
  'ipv4-mapped',
  'ipv4-translated',
  'nat64',
  '6to4',
  'teredo',
  'as112',
  'amt',
  'orchid',
  'drone-remote-id',
  'segment-routing',
  'discard',
];
export const SOURCE_ERRORS = [
  'timeout',
  'unavailable',
  'circuit-open',
  'rejected',
  'quota-exhausted',
  'bad-response',
  'internal-error',
];

export class IpSourceDto implements IpSourceResult {
  @ApiProperty({
    description: '`abuseipdb`, `local` (users’ reports), `blocklist` (IP_BLOCKLISTS) or `feed:<name>` (IP_FEEDS hits).',
    example: 'abuseipdb',
  })
  provider: string;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    minimum: 0,
    maximum: 100,
    description: 'null when the source has nothing on the address, or failed with no earlier answer.',
    example: 87,
  })
  score: number | null;

  @ApiProperty({ example: 42 })
  totalReports: number;

  @ApiPropertyOptional({ description: 'Distinct reporters, where the source knows them.', example: 17 })
  distinctReporters?: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2030-05-30T08:14:00.000Z' })
  lastReportedAt: string | null;

  @ApiProperty({
    type: 'array',
    // AbuseIPDB's ids are 1–23 today; an answer keeps any id below 1000 it may add later.
    items: { type: 'integer', minimum: 1, maximum: 999 },
    description: 'AbuseIPDB category ids (1–23).',
    example: [18, 22],
  })
  categories: number[];

  @ApiProperty({
    format: 'date-time',
    description: 'When the source answered (for a stale answer: when it first did).',
    example: '2030-06-01T12:00:00.000Z',
  })
  fetchedAt: string;

  @ApiPropertyOptional({
    type: [String],
    description: '`blocklist` only: the lists (file base names) that contain the address.',
    example: ['firehol_level1'],
  })
  lists?: string[];

  @ApiPropertyOptional({
    description: '`feed:<name>` sources: the feed lists the address (always true).',
    example: true,
  })
  listed?: boolean;

  @ApiPropertyOptional({
    enum: SOURCE_ERRORS,
    description: 'Why the provider failed on this lookup. Without `stale` the source has no answer.',
    example: 'timeout',
  })
  error?: string;

  @ApiPropertyOptional({
    description: "The provider failed now; this is its answer from the address's latest snapshot.",
    example: true,
  })
  stale?: boolean;
}

export class IpReputationDto implements IpReputation {
  @ApiProperty({ description: 'Canonical form; IPv4-mapped IPv6 is given as IPv4.', example: '118.25.6.39' })
  ip: string;

  @ApiProperty({ enum: [4, 6], example: 4 })
  version: IpVersion;

  @ApiProperty({ enum: IP_SCOPES, description: 'IANA special-purpose registry name, or `public`.', example: 'public' })
  scope: IpScope;

  @ApiProperty({ type: 'integer', nullable: true, minimum: 0, maximum: 100, example: 87 })
  score: number | null;

  @ApiProperty({
    enum: IP_REPUTATION_VERDICTS,
    description:
      'score ≥ IP_VERDICT_MALICIOUS_AT → malicious, ≥ IP_VERDICT_SUSPICIOUS_AT → suspicious, else clean — but ' +
      '`clean` only on the allowlist or when AbuseIPDB answered with nothing against the address; otherwise ' +
      '`unknown` with score null. Users’ reports alone reach suspicious at most.',
    example: 'malicious',
  })
  verdict: IpReputationVerdict;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    minimum: 0,
    maximum: 4_294_967_295,
    description: 'Autonomous system (offline datasets).',
    example: 45090,
  })
  asn: number | null;

  @ApiProperty({ type: String, nullable: true, example: 'Shenzhen Tencent Computer Systems Company Limited' })
  asOrg: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The routed block holding the address (the largest CIDR inside its AS range).',
    example: '118.24.0.0/15',
  })
  network: string | null;

  @ApiProperty({ description: 'On the allowlist: clean by decision, no source asked.', example: false })
  allowlisted: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'ISO 3166-1 alpha-2.', example: 'CN' })
  country: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'Tencent Cloud Computing (Beijing) Co. Ltd' })
  isp: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'AbuseIPDB’s usage type; without it `hosting` for hosting/cloud networks (offline list), else null.',
    example: 'Data Center/Web Hosting/Transit',
  })
  usageType: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'tencent.com' })
  domain: string | null;

  @ApiProperty({ type: Boolean, nullable: true, example: false })
  isTor: boolean | null;

  @ApiProperty({ type: [IpSourceDto] })
  sources: IpSourceDto[];

  @ApiProperty({ description: 'No provider was asked for this request.', example: false })
  cached: boolean;

  @ApiProperty({ description: 'At least one source is a stale stand-in.', example: false })
  stale: boolean;

  @ApiProperty({ format: 'date-time', example: '2030-06-01T12:00:00.000Z' })
  checkedAt: string;
}
