import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { SafeText } from '../../common/validation/safe-text.decorator';
import type { IpReportView } from '../ip-reputation.types';

/** AbuseIPDB report categories: https://www.abuseipdb.com/categories */
export const MIN_CATEGORY = 1;
export const MAX_CATEGORY = 23;
export const MAX_CATEGORIES = 30;
export const MAX_COMMENT_LENGTH = 1024;

export class CreateIpReportDto {
  @ApiProperty({
    type: 'integer',
    isArray: true,
    minItems: 1,
    maxItems: MAX_CATEGORIES,
    uniqueItems: true,
    description: `AbuseIPDB category ids, ${MIN_CATEGORY}–${MAX_CATEGORY} (e.g. 18 brute-force, 22 SSH).`,
    example: [18, 22],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_CATEGORIES)
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(MIN_CATEGORY, { each: true })
  @Max(MAX_CATEGORY, { each: true })
  categories: number[];

  @ApiPropertyOptional({
    maxLength: MAX_COMMENT_LENGTH,
    description: 'Free text, stored and echoed back, never interpreted.',
    example: 'SSH brute force against bastion-1, 300 attempts in 5 minutes',
  })
  @IsOptional()
  @IsString()
  @SafeText({ multiline: true })
  @MaxLength(MAX_COMMENT_LENGTH)
  comment?: string;
}

export class IpReportDto implements IpReportView {
  @ApiProperty({ format: 'uuid', example: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b' })
  id: string;

  @ApiProperty({ example: '118.25.6.39' })
  ip: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'integer', minimum: MIN_CATEGORY, maximum: MAX_CATEGORY },
    maxItems: MAX_CATEGORIES,
    example: [18, 22],
  })
  categories: number[];

  @ApiProperty({ type: String, nullable: true, example: 'SSH brute force against bastion-1' })
  comment: string | null;

  @ApiProperty({ format: 'date-time', example: '2030-06-01T12:00:00.000Z' })
  createdAt: string;
}
