import { ConflictException, ForbiddenException, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { QuotaService } from '../quota/quota.service';
import { AccessRevocations } from './access-revocations.service';
import { AccessTokenService } from './access-token.service';
import { AdminEmails } from './admin-emails';
import { AuthenticatedUser, VerifiedAccessToken } from './auth.types';
import { LoginDto, RegisterDto } from './dto/credentials.dto';
import { AuthResponseDto, MeResponseDto, UserDto } from './dto/auth-response.dto';
import { User } from './entities/user.entity';
import { PasswordHasher } from './password-hasher.service';
import { RefreshTokenService } from './refresh-token.service';
import { UsersRepository } from './users.repository';

/** One body for an unknown email and a wrong password, so answers do not reveal accounts. */
const INVALID_CREDENTIALS = 'Invalid email or password.';
const INVALID_REFRESH_TOKEN = 'The refresh token is invalid, expired or revoked.';

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    private readonly users: UsersRepository,
    private readonly passwords: PasswordHasher,
    private readonly accessTokens: AccessTokenService,
    private readonly refreshTokens: RefreshTokenService,
    private readonly revocations: AccessRevocations,
    private readonly admins: AdminEmails,
    private readonly quota: QuotaService,
  ) {}

  async register(dto: RegisterDto): Promise<AuthResponseDto> {
    const passwordHash = await this.passwords.hash(dto.password);
    const role = this.admins.includes(dto.email) ? 'admin' : 'user';
    const user = await this.users.insertIfAbsent({ email: dto.email, passwordHash, role });
    if (!user) throw new ConflictException('An account with this email already exists.');
    this.logger.log({ msg: 'account registered', userId: user.id, role });
    return this.startSession(user);
  }

  /** Unknown email and wrong password take the same path: one bcrypt comparison, one 401 body. */
  async login(dto: LoginDto): Promise<AuthResponseDto> {
    const credentials = await this.users.findCredentialsByEmail(dto.email);
    const valid = await this.passwords.verify(dto.password, credentials?.passwordHash);
    if (!credentials || !valid) throw new UnauthorizedException(INVALID_CREDENTIALS);

    const { user, passwordHash } = credentials;
    if (user.disabledAt !== null) throw new ForbiddenException('This account is disabled.');
    if (passwordHash && this.passwords.needsRehash(passwordHash)) {
      await this.users.updatePasswordHash(user.id, await this.passwords.hash(dto.password));
    }
    if (user.role !== 'admin' && this.admins.includes(user.email)) {
      await this.users.updateRole(user.id, 'admin');
      user.role = 'admin';
      this.logger.log({ msg: 'account promoted to admin (ADMIN_EMAILS)', userId: user.id });
    }
    return this.startSession(user);
  }

  /** A new pair for a valid refresh token, which is spent; its family continues. */
  async refresh(refreshToken: string): Promise<AuthResponseDto> {
    const spent = await this.refreshTokens.spend(refreshToken);
    const user = await this.users.findById(spent.userId);
    if (!user || user.disabledAt !== null) throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    const { refreshToken: next } = await this.refreshTokens.issue(user.id, spent.familyId);
    return this.toResponse(user, next);
  }

  /** Signs this session out: the refresh token's family and the access token of the call. */
  async logout(caller: AuthenticatedUser, accessToken: VerifiedAccessToken, refreshToken: string): Promise<void> {
    await this.refreshTokens.revokeFamilyOf(caller.id, refreshToken);
    await this.revocations.revokeToken(accessToken);
  }

  /** Signs every session of the caller out: every refresh family, every access token issued so far. */
  async logoutAll(caller: AuthenticatedUser): Promise<void> {
    const now = new Date();
    await this.refreshTokens.revokeAllOf(caller.id, now);
    const user = await this.users.applyChanges(caller.id, { tokensValidAfter: now });
    if (user) await this.revocations.userChanged(user);
    this.logger.log({ msg: 'signed out everywhere', userId: caller.id });
  }

  async me(caller: AuthenticatedUser): Promise<MeResponseDto> {
    const user = await this.users.findById(caller.id);
    if (!user) throw new UnauthorizedException('The account of this access token no longer exists.');
    const usage = await this.quota.usageToday(user.id);
    return { ...toUserDto(user), usage: { ...usage, dailyLimit: user.dailyLimit ?? usage.dailyLimit } };
  }

  private async startSession(user: User): Promise<AuthResponseDto> {
    const { refreshToken } = await this.refreshTokens.issue(user.id);
    return this.toResponse(user, refreshToken);
  }

  private toResponse(user: User, refreshToken: string): AuthResponseDto {
    const dto = toUserDto(user);
    const { accessToken, expiresIn } = this.accessTokens.issue(dto);
    return { user: dto, accessToken, refreshToken, expiresIn };
  }
}

export function toUserDto(user: User): UserDto {
  return { id: user.id, email: user.email, role: user.role, createdAt: user.createdAt };
}
