import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { IpHistory, IpHistoryItem } from '../ip-reputation.types';
import type { IpVerdict } from '../ip-scoring';
import { IP_VERDICTS, IpSourceDto } from './ip-reputation.dto';

export const HISTORY_DEFAULT_LIMIT = 20;
export const HISTORY_MAX_LIMIT = 100;

export class IpHistoryQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: HISTORY_MAX_LIMIT,
    default: HISTORY_DEFAULT_LIMIT,
    example: 20,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(HISTORY_MAX_LIMIT)
  limit: number = HISTORY_DEFAULT_LIMIT;
}

export class IpHistoryItemDto implements IpHistoryItem {
  @ApiProperty({ format: 'date-time', example: '2030-06-01T12:00:00.000Z' })
  checkedAt: string;

  @ApiProperty({ type: 'integer', nullable: true, minimum: 0, maximum: 100, example: 87 })
  score: number | null;

  @ApiProperty({ enum: IP_VERDICTS, example: 'malicious' })
  verdict: IpVerdict;

  @ApiProperty({ type: [IpSourceDto] })
  sources: IpSourceDto[];
}

export class IpHistoryDto implements IpHistory {
  @ApiProperty({ example: '118.25.6.39' })
  ip: string;

  @ApiProperty({ type: [IpHistoryItemDto], description: 'Newest first.' })
  items: IpHistoryItemDto[];
}
