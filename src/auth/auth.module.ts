import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Strategy } from 'passport';
import { QuotaModule } from '../quota/quota.module';
import { AppConfig } from '../config/config.types';
import { AccessTokenService } from './access-token.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { RefreshToken } from './entities/refresh-token.entity';
import { User } from './entities/user.entity';
import { ExternalIdentityService } from './external-identity.service';
import { ACCESS_TOKEN_STRATEGIES, JwtAuthGuard } from './guards/jwt-auth.guard';
import { PasswordHasher } from './password-hasher.service';
import { RefreshTokenService } from './refresh-token.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { JwksStrategy } from './strategies/jwks.strategy';
import { JwtStrategy } from './strategies/jwt.strategy';
import { UsersRepository } from './users.repository';

/**
 * Accounts, tokens and the global JwtAuthGuard (run by AppModule's AppGuard, between the IP and
 * user throttlers). Other modules use `@CurrentUser()` and `@Authenticated()`.
 */
@Module({
  imports: [TypeOrmModule.forFeature([User, RefreshToken]), QuotaModule],
  controllers: [AuthController],
  providers: [
    AuthService,
    AccessTokenService,
    PasswordHasher,
    RefreshTokenService,
    UsersRepository,
    RefreshTokensRepository,
    ExternalIdentityService,
    JwtStrategy,
    {
      provide: ACCESS_TOKEN_STRATEGIES,
      inject: [ConfigService, JwtStrategy, ExternalIdentityService],
      useFactory: (
        config: ConfigService<AppConfig, true>,
        jwt: JwtStrategy,
        identities: ExternalIdentityService,
      ): Strategy[] => {
        const { jwksUrl, jwksIssuer, jwksAudience } = config.get('auth', { infer: true });
        // Configuration refuses AUTH_JWKS_URL without its issuer and audience (src/config).
        if (!jwksUrl || !jwksIssuer || !jwksAudience) return [jwt];
        return [jwt, new JwksStrategy({ jwksUrl, issuer: jwksIssuer, audience: jwksAudience }, identities)];
      },
    },
    JwtAuthGuard,
  ],
  exports: [JwtAuthGuard, ACCESS_TOKEN_STRATEGIES],
})
export class AuthModule {}
