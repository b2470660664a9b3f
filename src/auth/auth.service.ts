import { ConflictException, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { QuotaService } from '../quota/quota.service';
import { AccessTokenService } from './access-token.service';
import { AuthenticatedUser } from './auth.types';
import { LoginDto, RegisterDto } from './dto/credentials.dto';
import { AuthResponseDto, MeResponseDto, UserDto } from './dto/auth-response.dto';
import { User } from './entities/user.entity';
import { PasswordHasher } from './password-hasher.service';
import { RefreshTokenService } from './refresh-token.service';
import { UsersRepository } from './users.repository';

/** One body for an unknown email and a wrong password, so answers do not reveal accounts. */
const INVALID_CREDENTIALS = 'Invalid email or password.';

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    private readonly users: UsersRepository,
    private readonly passwords: PasswordHasher,
    private readonly accessTokens: AccessTokenService,
    private readonly refreshTokens: RefreshTokenService,
    private readonly quota: QuotaService,
  ) {}

  async register(dto: RegisterDto): Promise<AuthResponseDto> {
    const passwordHash = await this.passwords.hash(dto.password);
    const user = await this.users.insertIfAbsent({ email: dto.email, passwordHash });
    if (!user) throw new ConflictException('An account with this email already exists.');
    this.logger.log({ msg: 'account registered', userId: user.id });
    return this.startSession(user);
  }

  /** Unknown email and wrong password take the same path: one bcrypt comparison, one 401 body. */
  async login(dto: LoginDto): Promise<AuthResponseDto> {
    const credentials = await this.users.findCredentialsByEmail(dto.email);
    const valid = await this.passwords.verify(dto.password, credentials?.passwordHash);
    if (!credentials || !valid) throw new UnauthorizedException(INVALID_CREDENTIALS);

    const { user, passwordHash } = credentials;
    if (passwordHash && this.passwords.needsRehash(passwordHash)) {
      await this.users.updatePasswordHash(user.id, await this.passwords.hash(dto.password));
    }
    return this.startSession(user);
  }

  /** A new pair for a valid refresh token, which is spent; its family continues. */
  async refresh(refreshToken: string): Promise<AuthResponseDto> {
    const spent = await this.refreshTokens.spend(refreshToken);
    const user = await this.users.findById(spent.userId);
    if (!user) throw new UnauthorizedException('The refresh token is invalid, expired or revoked.');
    const { refreshToken: next } = await this.refreshTokens.issue(user.id, spent.familyId);
    return this.toResponse(user, next);
  }

  async logout(caller: AuthenticatedUser, refreshToken: string): Promise<void> {
    await this.refreshTokens.revokeFamilyOf(caller.id, refreshToken);
  }

  async me(caller: AuthenticatedUser): Promise<MeResponseDto> {
    const user = await this.users.findById(caller.id);
    if (!user) throw new UnauthorizedException('The account of this access token no longer exists.');
    return { ...toUserDto(user), usage: await this.quota.usageToday(user.id) };
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

function toUserDto(user: User): UserDto {
  return { id: user.id, email: user.email, role: user.role, createdAt: user.createdAt };
}
