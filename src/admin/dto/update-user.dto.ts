import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min, ValidateIf } from 'class-validator';
import { USER_ROLES, UserRole } from '../../auth/auth.types';

export const DAILY_LIMIT_MAX = 1_000_000;

/** `PATCH /v1/admin/users/:id`: what to change; an absent field is left as it is. */
export class UpdateUserDto {
  @ApiPropertyOptional({ enum: USER_ROLES, description: "The account's role; a change ends its current access tokens." })
  @IsOptional()
  @IsIn(USER_ROLES)
  role?: UserRole;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: DAILY_LIMIT_MAX,
    description: 'Upstream AI analyses a UTC day for this account, instead of AI_DAILY_LIMIT_PER_USER; null removes it.',
  })
  @ValidateIf((_dto, value) => value !== null)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(DAILY_LIMIT_MAX)
  dailyLimit?: number | null;

  @ApiPropertyOptional({
    description: 'true stops every token of the account at once and refuses sign-in; false lets it sign in again.',
  })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class AdminUserDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ type: String, nullable: true, example: 'ada@example.com' })
  email: string | null;

  @ApiProperty({ enum: USER_ROLES })
  role: UserRole;

  @ApiProperty()
  disabled: boolean;

  @ApiProperty({ type: Number, nullable: true, description: 'null: AI_DAILY_LIMIT_PER_USER applies.' })
  dailyLimit: number | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: Date;
}
