import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { SafeText } from '../../common/validation/safe-text.decorator';

export class RefreshTokenDto {
  @ApiProperty({
    example: 'c2lnbmVkLW9wYXF1ZS1yZWZyZXNoLXRva2VuLWV4YW1wbGUtMDAwMA',
    description: 'The opaque refresh token from register, login or refresh.',
    maxLength: 256,
  })
  @IsString()
  @SafeText()
  @Matches(/^[A-Za-z0-9_-]{43,256}$/, { message: 'refreshToken must be a refresh token issued by this API' })
  refreshToken: string;
}
