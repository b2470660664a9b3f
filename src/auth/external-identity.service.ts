import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { isEmail } from 'class-validator';
import { createHash } from 'node:crypto';
import { AppConfig } from '../config/config.types';
import { AdminEmails } from './admin-emails';
import { VerifiedAccessToken } from './auth.types';
import { EMAIL_MAX_LENGTH } from './dto/credentials.dto';
import { hasInvisibleCharacters, normaliseEmail } from './email';
import { User } from './entities/user.entity';
import { emailVerified, ProviderClaims } from './providers/provider-token.verifier';
import { UsersRepository } from './users.repository';

/** Rounds of "look, then insert" before giving up on a subject whose first requests race. */
const MAX_ATTEMPTS = 3;

/**
 * Accounts behind identity providers (docs/api.md, "Accounts and tokens"). An identity is the
 * pair (`iss`, `sub`) of a verified token, linked to one account on first sight:
 * - the token claims its email only when the provider says `email_verified: true`;
 * - a claimed email held by a password account is not taken over: the identity gets an account
 *   of its own, without an email, so a password registration never locks a provider user out;
 * - a claimed email held by an account without a password (another identity that claimed the
 *   same verified email) is the same person: the identity is linked to that account.
 * Each first verification of a token reads the account (the guard remembers the token for at most
 * a minute), so a disabled account or a changed role applies at once.
 */
@Injectable()
export class ExternalIdentityService {
  private readonly logger = new Logger(ExternalIdentityService.name);
  /** Accounts of AUTH_JWKS_URL tokens from before identities were (iss, sub) rows. */
  private readonly legacyIssuer?: string;

  constructor(
    private readonly users: UsersRepository,
    private readonly admins: AdminEmails,
    config: ConfigService<AppConfig, true>,
  ) {
    this.legacyIssuer = config.get('auth.jwksIssuer', { infer: true });
  }

  /** The verified token of an identity's account; null when the account is disabled. */
  async tokenFor(issuer: string, claims: ProviderClaims, token: string): Promise<VerifiedAccessToken | null> {
    const user = await this.accountFor(issuer, claims);
    if (!user || user.disabledAt !== null) return null;
    return {
      user: { id: user.id, email: user.email, role: user.role },
      tokenId: createHash('sha256').update(token).digest('hex'),
      issuedAtMs: claims.iat * 1000,
      expiresAtMs: claims.exp * 1000,
    };
  }

  private async accountFor(issuer: string, claims: ProviderClaims): Promise<User | null> {
    const linked = await this.users.findByIdentity(issuer, claims.sub);
    if (linked) return this.promoteIfAdmin(linked);
    if (issuer === this.legacyIssuer) {
      const legacy = await this.users.findByExternalId(claims.sub);
      if (legacy && (await this.users.linkIdentity(legacy.id, issuer, claims.sub))) return legacy;
    }
    return this.createFor(issuer, claims);
  }

  private async createFor(issuer: string, claims: ProviderClaims): Promise<User | null> {
    const subject = claims.sub;
    const claimed = claimedEmail(claims);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const holder = claimed === null ? null : await this.users.findCredentialsByEmail(claimed);
      if (holder && holder.passwordHash === null) {
        if (await this.users.linkIdentity(holder.user.id, issuer, subject)) return this.promoteIfAdmin(holder.user);
      } else {
        const email = holder ? null : claimed;
        const role = this.admins.includes(email) ? 'admin' : 'user';
        const created = await this.users.insertIfAbsent({ email, passwordHash: null, role });
        if (created && (await this.users.linkIdentity(created.id, issuer, subject))) {
          this.logger.log({ msg: 'account created from identity provider', userId: created.id, emailClaimed: !!email });
          return created;
        }
        if (created) await this.users.deleteIfUnlinked(created.id);
      }
      // Another request of this subject (or of this email) got there first: look again.
      const winner = await this.users.findByIdentity(issuer, subject);
      if (winner) return winner;
    }
    this.logger.warn({ msg: 'identity could not be linked to an account' });
    return null;
  }

  private async promoteIfAdmin(user: User): Promise<User> {
    if (user.role === 'admin' || !this.admins.includes(user.email)) return user;
    await this.users.updateRole(user.id, 'admin');
    this.logger.log({ msg: 'account promoted to admin (ADMIN_EMAILS)', userId: user.id });
    return Object.assign(user, { role: 'admin' as const });
  }
}

/** The token's email, normalised, when the provider verified it and it is a usable address. */
function claimedEmail(claims: ProviderClaims): string | null {
  if (typeof claims.email !== 'string' || !emailVerified(claims)) return null;
  const email = normaliseEmail(claims.email);
  if (email.length === 0 || email.length > EMAIL_MAX_LENGTH || hasInvisibleCharacters(email)) return null;
  return isEmail(email) ? email : null;
}
