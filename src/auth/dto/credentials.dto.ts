import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Length, MaxLength } from 'class-validator';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;
export const EMAIL_MAX_LENGTH = 254;

const normaliseEmail = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;

class EmailField {
  @ApiProperty({
    example: 'ada@example.com',
    maxLength: EMAIL_MAX_LENGTH,
    description: 'Trimmed and lower-cased before use.',
  })
  @Transform(normaliseEmail)
  @IsString()
  @MaxLength(EMAIL_MAX_LENGTH)
  @IsEmail({ allow_display_name: false, allow_ip_domain: false }, { message: 'email must be a valid email address' })
  email: string;
}

export class RegisterDto extends EmailField {
  @ApiProperty({
    example: 'correct horse battery staple',
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_LENGTH,
    format: 'password',
    description: `${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters; every character counts (no 72-byte truncation).`,
  })
  @IsString()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH, {
    message: `password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`,
  })
  password: string;
}

export class LoginDto extends EmailField {
  @ApiProperty({ example: 'correct horse battery staple', maxLength: PASSWORD_MAX_LENGTH, format: 'password' })
  @IsString()
  @Length(1, PASSWORD_MAX_LENGTH, { message: `password must be 1 to ${PASSWORD_MAX_LENGTH} characters long` })
  password: string;
}
