import { ApiProperty } from '@nestjs/swagger';
import type { IpRangeView, RangeAddress } from '../ip-ranges.service';
import { IP_VERDICTS } from './ip-reputation.dto';
import type { IpVerdict } from '../ip-scoring';

export class IpRangeFeedDto {
  @ApiProperty({ example: 'firehol_level1' })
  feed: string;

  @ApiProperty({ description: 'The feed entry that holds the range or lies inside it.', example: '45.12.0.0/16' })
  prefix: string;
}

export class IpRangeAddressDto implements RangeAddress {
  @ApiProperty({ example: '45.12.7.9' })
  ip: string;

  @ApiProperty({ description: 'Counted users’ reports (one per reporter per 24 h).', example: 2 })
  reports: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastReportedAt: string | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    minimum: 0,
    maximum: 100,
    description: 'Latest lookup; null: never looked up.',
  })
  score: number | null;

  @ApiProperty({ enum: IP_VERDICTS, nullable: true, description: 'Latest lookup; null: never looked up.' })
  verdict: IpVerdict | null;
}

export class IpRangeDto implements IpRangeView {
  @ApiProperty({ description: 'Canonical CIDR, host bits cleared.', example: '45.12.7.0/24' })
  network: string;

  @ApiProperty({ type: 'integer', nullable: true, minimum: 0, maximum: 4_294_967_295, example: 213230 })
  asn: number | null;

  @ApiProperty({ type: String, nullable: true, example: 'Hetzner Online GmbH' })
  asOrg: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'DE' })
  country: string | null;

  @ApiProperty({ type: [IpRangeFeedDto] })
  feeds: IpRangeFeedDto[];

  @ApiProperty({ type: [IpRangeAddressDto], maxItems: 1000 })
  addresses: IpRangeAddressDto[];
}
