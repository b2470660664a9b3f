import { ApiProperty } from '@nestjs/swagger';
import { USER_ROLES, UserRole } from '../auth.types';

export class UserDto {
  @ApiProperty({ format: 'uuid', example: '0b6f1d1e-4c1a-4a57-9d0e-2f3c4b5a6d7e' })
  id: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'ada@example.com',
    description: 'Null for an identity-provider account whose provider has not verified an email it could claim.',
  })
  email: string | null;

  @ApiProperty({ enum: USER_ROLES, example: 'user' })
  role: UserRole;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-01-31T12:00:00.000Z' })
  createdAt: Date;
}

export class AuthResponseDto {
  @ApiProperty({ type: UserDto })
  user: UserDto;

  @ApiProperty({
    description: 'JWT (HS256) for `Authorization: Bearer …`.',
    example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwYjZmMWQxZSJ9.c2lnbmF0dXJl',
  })
  accessToken: string;

  @ApiProperty({
    description: 'Opaque, single use: exchange it at /v1/auth/refresh for a new pair.',
    example: 'c2lnbmVkLW9wYXF1ZS1yZWZyZXNoLXRva2VuLWV4YW1wbGUtMDAwMA',
  })
  refreshToken: string;

  @ApiProperty({ description: 'Access token lifetime in seconds.', example: 900 })
  expiresIn: number;
}

export class UsageDto {
  @ApiProperty({ description: 'Upstream AI analyses counted today (UTC).', example: 3 })
  analysesToday: number;

  @ApiProperty({ description: "AI_DAILY_LIMIT_PER_USER, or the account's own limit set by an admin.", example: 100 })
  dailyLimit: number;
}

export class MeResponseDto extends UserDto {
  @ApiProperty({ type: UsageDto })
  usage: UsageDto;
}
