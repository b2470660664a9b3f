import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { SafeText } from '../../common/validation/safe-text.decorator';

export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;

export class ListAnalysesQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: LIST_MAX_LIMIT, default: LIST_DEFAULT_LIMIT, example: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(LIST_MAX_LIMIT)
  limit: number = LIST_DEFAULT_LIMIT;

  @ApiPropertyOptional({
    description: '`nextCursor` of the previous page (opaque).',
    pattern: '^[A-Za-z0-9_-]+$',
    example: 'MTkwNjk4MTIwMDAwMC4wYjdlNGYwZS02YTUzLTRjMWUtOWE1Ny0zZjFmOGYwZjJkMTE',
  })
  @IsOptional()
  @IsString()
  @SafeText()
  @MaxLength(128)
  cursor?: string;
}
