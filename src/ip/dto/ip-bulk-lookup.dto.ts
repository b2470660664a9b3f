import { ApiProperty, ApiExtraModels, getSchemaPath } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, MaxLength } from 'class-validator';
import { SafeText } from '../../common/validation/safe-text.decorator';
import type { IpLookupFailure, IpLookupItem } from '../ip-reputation.types';
import { IpReputationDto } from './ip-reputation.dto';

export const BULK_MAX_ADDRESSES = 100;
/** Longer than any address text by far; an item up to this long gets a per-item 400, a longer one fails the request. */
export const BULK_MAX_ITEM_LENGTH = 256;

export class IpBulkLookupDto {
  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: BULK_MAX_ADDRESSES,
    description:
      'IPv4/IPv6 addresses. Each distinct address counts against IP_RATE_LIMIT_PER_MINUTE; duplicates are looked up once.',
    example: ['118.25.6.39', '2001:4860:4860::8888', '192.168.1.1', 'not-an-ip'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BULK_MAX_ADDRESSES)
  @IsString({ each: true })
  @SafeText({ each: true })
  @MaxLength(BULK_MAX_ITEM_LENGTH, { each: true })
  ips: string[];
}

export class IpLookupErrorDto {
  @ApiProperty({ example: 400 })
  status: number;

  @ApiProperty({ example: 'Bad Request' })
  title: string;

  @ApiProperty({ example: '"not-an-ip" is not an IPv4 or IPv6 address.' })
  detail: string;
}

export class IpLookupFailureDto implements IpLookupFailure {
  @ApiProperty({ description: 'The item as sent.', example: 'not-an-ip' })
  input: string;

  @ApiProperty({ type: IpLookupErrorDto })
  error: IpLookupErrorDto;
}

@ApiExtraModels(IpReputationDto, IpLookupFailureDto)
export class IpBulkLookupResultDto {
  @ApiProperty({
    description: 'One item per input, in order: the answer GET /v1/ip/{address} would give, or the item’s error.',
    type: 'array',
    items: { oneOf: [{ $ref: getSchemaPath(IpReputationDto) }, { $ref: getSchemaPath(IpLookupFailureDto) }] },
  })
  items: IpLookupItem[];
}
