import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/config.types';
import { QuotaModule } from '../quota/quota.module';
import { RedisModule } from '../redis/redis.module';
import { AccessRevocations } from './access-revocations.service';
import { AccessTokenService } from './access-token.service';
import { AccountsService } from './accounts.service';
import { AdminEmails } from './admin-emails';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { RefreshToken } from './entities/refresh-token.entity';
import { RevokedAccessToken } from './entities/revoked-access-token.entity';
import { UserIdentity } from './entities/user-identity.entity';
import { User } from './entities/user.entity';
import { ExternalIdentityService } from './external-identity.service';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { PasswordHasher } from './password-hasher.service';
import { JwksTokenVerifier } from './providers/jwks-token.verifier';
import { PROVIDER_TOKEN_VERIFIERS, ProviderTokenVerifier } from './providers/provider-token.verifier';
import { SharedSecretTokenVerifier } from './providers/shared-secret-token.verifier';
import { RefreshTokenService } from './refresh-token.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { UsersRepository } from './users.repository';

/** The identity providers configured (AUTH_JWKS_URL, AUTH_SHARED_*): none, one or both. */
function providerVerifiers(config: ConfigService<AppConfig, true>): ProviderTokenVerifier[] {
  const auth = config.get('auth', { infer: true });
  const verifiers: ProviderTokenVerifier[] = [];
  // Configuration refuses a provider without its issuer and audience (src/config).
  if (auth.jwksUrl && auth.jwksIssuer && auth.jwksAudience) {
    verifiers.push(new JwksTokenVerifier({ jwksUrl: auth.jwksUrl, issuer: auth.jwksIssuer, audience: auth.jwksAudience }));
  }
  if (auth.sharedSecret && auth.sharedIssuer && auth.sharedAudience) {
    verifiers.push(
      new SharedSecretTokenVerifier({ secret: auth.sharedSecret, issuer: auth.sharedIssuer, audience: auth.sharedAudience }),
    );
  }
  return verifiers;
}

/**
 * Accounts, tokens, revocations and the global JwtAuthGuard (run by AppModule's AppGuard, between
 * the IP and user rate limits), which also keeps `/v1/admin` for admins. Other modules use
 * `@CurrentUser()`, `@Authenticated()` and `@AdminOnly()`; the admin room uses AccountsService.
 */
@Module({
  imports: [TypeOrmModule.forFeature([User, RefreshToken, UserIdentity, RevokedAccessToken]), QuotaModule, RedisModule],
  controllers: [AuthController],
  providers: [
    AuthService,
    AccountsService,
    AccessTokenService,
    AccessRevocations,
    AdminEmails,
    PasswordHasher,
    RefreshTokenService,
    UsersRepository,
    RefreshTokensRepository,
    ExternalIdentityService,
    { provide: PROVIDER_TOKEN_VERIFIERS, inject: [ConfigService], useFactory: providerVerifiers },
    JwtAuthGuard,
  ],
  exports: [JwtAuthGuard, AccountsService],
})
export class AuthModule {}
