import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Length, Matches, MaxLength } from 'class-validator';
import { SafeText } from '../../common/validation/safe-text.decorator';
import { normaliseEmail } from '../email';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;
export const EMAIL_MAX_LENGTH = 254;

const toNormalEmail = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? normaliseEmail(value) : value;

/** No Unicode Cc/Cf (zero-width and bidirectional marks, soft hyphen, controls) or lone surrogate. */
const VISIBLE_ONLY = /^[^\p{Cc}\p{Cf}\p{Cs}]*$/u;

class EmailField {
  @ApiProperty({
    example: 'ada@example.com',
    maxLength: EMAIL_MAX_LENGTH,
    description:
      'NFKC-normalised, trimmed and lower-cased before use (look-alike spellings are one account); ' +
      'invisible or format characters (Unicode Cc, Cf) are refused.',
  })
  @Transform(toNormalEmail)
  @IsString()
  @Matches(VISIBLE_ONLY, { message: 'email must not contain invisible or format characters' })
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
  @SafeText()
  @Length(PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH, {
    message: `password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`,
  })
  password: string;
}

export class LoginDto extends EmailField {
  @ApiProperty({ example: 'correct horse battery staple', maxLength: PASSWORD_MAX_LENGTH, format: 'password' })
  @IsString()
  @SafeText()
  @Length(1, PASSWORD_MAX_LENGTH, { message: `password must be 1 to ${PASSWORD_MAX_LENGTH} characters long` })
  password: string;
}
