import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { SafeText } from '../../../common/validation/safe-text.decorator';

export const MAX_ALLOWLIST_NOTE = 256;
export const MAX_ALLOWLIST_VALUE = 64;
/** Longer than any ISO 8601 timestamp needs (`2030-06-01T12:00:00.000+05:30` is 29). */
export const MAX_TIMESTAMP_LENGTH = 40;

export class CreateAllowlistEntryDto {
  @ApiProperty({
    description: 'A CIDR (`192.0.2.0/24`, `2001:db8::/32`), a single address, or `AS<number>`.',
    maxLength: MAX_ALLOWLIST_VALUE,
    example: '140.82.112.0/20',
  })
  @IsString()
  @MaxLength(MAX_ALLOWLIST_VALUE)
  value: string;

  @ApiPropertyOptional({ maxLength: MAX_ALLOWLIST_NOTE, example: 'GitHub: FireHOL level3 false positive' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_ALLOWLIST_NOTE)
  @SafeText()
  note?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'After this the entry no longer applies.',
    example: '2030-06-01T12:00:00.000Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(MAX_TIMESTAMP_LENGTH)
  expiresAt?: string;
}

export class AllowlistEntryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'Canonical form (host bits cleared, `AS` upper-case).', example: '140.82.112.0/20' })
  value: string;

  @ApiProperty({ type: String, nullable: true })
  note: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiresAt: string | null;

  @ApiProperty({ description: 'Past its expiry: listed until deleted, but no longer applied.' })
  expired: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class AllowlistDto {
  @ApiProperty({ type: [AllowlistEntryDto], description: 'The admin entries, oldest first.' })
  items: AllowlistEntryDto[];

  @ApiProperty({ type: [String], description: 'IP_ALLOWLIST entries (read-only here).', example: ['AS15169'] })
  configured: string[];
}

export class IpFeedDto {
  @ApiProperty({ example: 'firehol' })
  name: string;

  @ApiProperty({ description: 'Credentials and query values masked.', example: 'https://***@feeds.example/list.txt' })
  url: string;

  @ApiProperty({ example: 4521 })
  entries: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Last 200 or 304.' })
  fetchedAt: string | null;

  @ApiProperty({ type: 'integer', nullable: true })
  ageSeconds: number | null;

  @ApiProperty({ type: String, nullable: true, example: 'HTTP 503' })
  lastError: string | null;
}

export class IpFeedsDto {
  @ApiProperty({ type: [IpFeedDto] })
  items: IpFeedDto[];
}

export class ProviderKeyDto {
  @ApiProperty({ example: 'abuseipdb' })
  provider: string;

  @ApiProperty({ description: 'Position in the configured key list (1-based).', example: 1 })
  position: number;

  @ApiProperty({ description: 'Masked: the last 4 characters only.', example: '…cdef' })
  key: string;

  @ApiProperty({ enum: ['active', 'benched', 'expiring'], example: 'active' })
  state: 'active' | 'benched' | 'expiring';

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  benchedUntil: string | null;

  @ApiProperty({ type: String, nullable: true, enum: ['rejected', 'quota-exhausted', 'rate-limited'] })
  benchedBecause: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: '<PROVIDER>_API_KEY_EXPIRES_AT.' })
  expiresAt: string | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'As the provider last reported it.' })
  remainingQuota: number | null;
}

export class ProvidersDto {
  @ApiProperty({ type: [ProviderKeyDto] })
  items: ProviderKeyDto[];
}
