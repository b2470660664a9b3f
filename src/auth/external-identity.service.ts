import { Injectable, Logger } from '@nestjs/common';
import { isEmail } from 'class-validator';
import { ExpectedClaims, hasRegisteredClaims } from './access-token.service';
import { AuthenticatedUser } from './auth.types';
import { EMAIL_MAX_LENGTH } from './dto/credentials.dto';
import { User } from './entities/user.entity';
import { UsersRepository } from './users.repository';

/** Users seen recently, by external subject: a JWKS-authenticated request normally reads no row. */
const CACHE_MAX_ENTRIES = 10_000;

/**
 * Accounts behind an external identity provider (AUTH_JWKS_URL): maps a verified token's `sub` to
 * an Argus user, creating it on first sight from `sub` and `email`. An email that already belongs
 * to another account is not linked (that would let the provider take over a local account).
 */
@Injectable()
export class ExternalIdentityService {
  private readonly logger = new Logger(ExternalIdentityService.name);
  private readonly cache = new Map<string, AuthenticatedUser>();

  constructor(private readonly users: UsersRepository) {}

  /** The user of a provider token whose signature and `exp`/`iss`/`aud` were verified. */
  async userFromClaims(payload: unknown, expected: ExpectedClaims): Promise<AuthenticatedUser | null> {
    if (!hasRegisteredClaims(payload, expected)) return null;
    const subject = payload.sub;
    const cached = this.cache.get(subject);
    if (cached) return cached;

    const user = (await this.users.findByExternalId(subject)) ?? (await this.createFromClaims(subject, payload.email));
    if (!user) return null;
    const authenticated: AuthenticatedUser = { id: user.id, email: user.email, role: user.role };
    this.remember(subject, authenticated);
    return authenticated;
  }

  private async createFromClaims(subject: string, emailClaim: unknown): Promise<User | null> {
    const email = typeof emailClaim === 'string' ? emailClaim.trim().toLowerCase() : '';
    if (email.length === 0 || email.length > EMAIL_MAX_LENGTH || !isEmail(email)) {
      this.logger.warn({ msg: 'external token without a usable email claim; no account created' });
      return null;
    }
    const created = await this.users.insertIfAbsent({ email, passwordHash: null, externalId: subject });
    if (created) {
      this.logger.log({ msg: 'account created from external identity', userId: created.id });
      return created;
    }
    // Either the same subject was created concurrently, or the email belongs to another account.
    const existing = await this.users.findByExternalId(subject);
    if (!existing) this.logger.warn({ msg: 'external identity email already used by another account; refused' });
    return existing;
  }

  private remember(subject: string, user: AuthenticatedUser): void {
    if (this.cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(subject, user);
  }
}
