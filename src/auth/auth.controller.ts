import { Body, Controller, Get, Header, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { AuthService } from './auth.service';
import { AuthenticatedUser, VerifiedAccessToken } from './auth.types';
import { Anonymous, Authenticated } from './decorators/auth.decorator';
import { CurrentAccessToken, CurrentUser } from './decorators/current-user.decorator';
import { AuthResponseDto, MeResponseDto } from './dto/auth-response.dto';
import { LoginDto, RegisterDto } from './dto/credentials.dto';
import { RefreshTokenDto } from './dto/refresh-token.dto';

@ApiTags('auth')
@ApiBadRequestResponse({ description: 'Invalid body: problem+json with `errors: [{ field, message }]`.' })
@Controller({ path: 'auth', version: '1' })
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('register')
  @Anonymous()
  @RateLimit('auth')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'register',
    summary: 'Create an account and sign in',
    description: 'Answers the account and a first token pair. The email is normalised first; one account per address.',
  })
  @ApiCreatedResponse({ type: AuthResponseDto })
  @ApiConflictResponse({ description: 'An account with this email already exists.' })
  @ApiTooManyRequestsResponse({ description: 'AUTH_RATE_LIMIT_PER_MINUTE exceeded for this client IP (Retry-After).' })
  register(@Body() dto: RegisterDto): Promise<AuthResponseDto> {
    return this.auth.register(dto);
  }

  @Post('login')
  @Anonymous()
  @RateLimit('auth')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'login',
    summary: 'Sign in with email and password',
    description: 'A wrong email and a wrong password get the same 401, in similar time.',
  })
  @ApiOkResponse({ type: AuthResponseDto })
  @ApiUnauthorizedResponse({ description: 'Invalid email or password (one answer for both).' })
  @ApiTooManyRequestsResponse({ description: 'AUTH_RATE_LIMIT_PER_MINUTE exceeded for this client IP (Retry-After).' })
  login(@Body() dto: LoginDto): Promise<AuthResponseDto> {
    return this.auth.login(dto);
  }

  @Post('refresh')
  @Anonymous()
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'refreshTokens',
    summary: 'Exchange a refresh token for a new pair',
    description: 'The presented token is spent. Presenting a spent token again revokes its whole family.',
  })
  @ApiOkResponse({ type: AuthResponseDto })
  @ApiUnauthorizedResponse({ description: 'The refresh token is invalid, expired, spent or revoked.' })
  refresh(@Body() dto: RefreshTokenDto): Promise<AuthResponseDto> {
    return this.auth.refresh(dto.refreshToken);
  }

  @Post('logout')
  @Authenticated()
  @HttpCode(HttpStatus.NO_CONTENT)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'logout',
    summary: 'Sign out this session',
    description:
      "Revokes the refresh token's family and the access token of this call (until it expires), " +
      'on every replica within a second.',
  })
  @ApiNoContentResponse({ description: 'Revoked (the refresh token also when it was unknown or not yours).' })
  logout(
    @CurrentUser() user: AuthenticatedUser,
    @CurrentAccessToken() accessToken: VerifiedAccessToken,
    @Body() dto: RefreshTokenDto,
  ): Promise<void> {
    return this.auth.logout(user, accessToken, dto.refreshToken);
  }

  @Post('logout-all')
  @Authenticated()
  @HttpCode(HttpStatus.NO_CONTENT)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'logoutAll',
    summary: 'Sign out every session',
    description: 'Revokes every refresh-token family of the account and every access token issued before the call.',
  })
  @ApiNoContentResponse({ description: 'Every session signed out.' })
  logoutAll(@CurrentUser() user: AuthenticatedUser): Promise<void> {
    return this.auth.logoutAll(user);
  }

  @Get('me')
  @Authenticated()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'getMe',
    summary: 'The signed-in account and its AI usage today (UTC)',
    description: '`usage.dailyLimit` is AI_DAILY_LIMIT_PER_USER unless an admin set the account its own.',
  })
  @ApiOkResponse({ type: MeResponseDto })
  me(@CurrentUser() user: AuthenticatedUser): Promise<MeResponseDto> {
    return this.auth.me(user);
  }
}
