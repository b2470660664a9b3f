import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export const DELIVERIES_DEFAULT_LIMIT = 20;
export const DELIVERIES_MAX_LIMIT = 100;

export class ListDeliveriesQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: DELIVERIES_MAX_LIMIT,
    default: DELIVERIES_DEFAULT_LIMIT,
    example: 20,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(DELIVERIES_MAX_LIMIT)
  limit: number = DELIVERIES_DEFAULT_LIMIT;

  @ApiPropertyOptional({
    maxLength: 128,
    description: '`nextCursor` of the previous page (opaque).',
    example: 'MTkwNjk4MTIwMDAwMC41ZDFjMWY1ZS05YTBiLTRjNTMtOGEzOS0wZjZkMmYzZTdiMTE',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  cursor?: string;
}
