import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, Repository } from 'typeorm';
import { UserRole } from './auth.types';
import { storedEmail, User } from './entities/user.entity';
import { UserIdentity } from './entities/user-identity.entity';

export interface NewUser {
  /** Normalised; null for an identity-provider account without a (verified, free) email. */
  email: string | null;
  passwordHash: string | null;
  role?: UserRole;
}

/** A user together with its password hash, for the login check only. */
export interface UserCredentials {
  user: User;
  passwordHash: string | null;
}

/** What an admin may change on an account (undefined = unchanged). */
export interface AccountChanges {
  role?: UserRole;
  /** null = back to AI_DAILY_LIMIT_PER_USER. */
  dailyLimit?: number | null;
  disabledAt?: Date | null;
  tokensValidAfter?: Date;
}

@Injectable()
export class UsersRepository {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(UserIdentity) private readonly identities: Repository<UserIdentity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  /** Accounts created from AUTH_JWKS_URL tokens before identities had their own table. */
  findByExternalId(externalId: string): Promise<User | null> {
    return this.users.findOneBy({ externalId });
  }

  /** The account linked to the identity (`iss`, `sub`), in one query. */
  findByIdentity(issuer: string, subject: string): Promise<User | null> {
    return this.users
      .createQueryBuilder('user')
      .innerJoin(UserIdentity, 'identity', 'identity.user_id = user.id')
      .where('identity.issuer = :issuer AND identity.subject = :subject', { issuer, subject })
      .getOne();
  }

  async findCredentialsByEmail(email: string): Promise<UserCredentials | null> {
    const user = await this.users
      .createQueryBuilder('user')
      .addSelect('user.passwordHash')
      .where('user.email = :email', { email })
      .getOne();
    if (!user) return null;
    const { passwordHash = null, ...rest } = user;
    return { user: Object.assign(new User(), rest), passwordHash };
  }

  /**
   * Inserts the user unless its email is taken, in one statement that both PostgreSQL and SQLite
   * run atomically: concurrent sign-ups of one email create exactly one row. Returns null when the
   * row already existed. No failed INSERT reaches the query-error log (which would print the
   * parameters, password hash included).
   */
  async insertIfAbsent(fields: NewUser): Promise<User | null> {
    const user = Object.assign(new User(), {
      id: randomUUID(),
      email: fields.email,
      role: fields.role ?? 'user',
      externalId: null,
      tokensValidAfter: null,
      disabledAt: null,
      dailyLimit: null,
      createdAt: new Date(),
    });
    const [sql, parameters] = this.dataSource.driver.escapeQueryWithParameters(
      `INSERT INTO "users" ("id", "email", "password_hash", "role", "created_at")
       VALUES (:id, :email, :passwordHash, :role, :createdAt)
       ON CONFLICT DO NOTHING
       RETURNING "id"`,
      {
        id: user.id,
        email: storedEmail(user.id, fields.email),
        passwordHash: fields.passwordHash,
        role: user.role,
        createdAt: user.createdAt,
      },
      {},
    );
    const inserted: unknown = await this.dataSource.query(sql, parameters);
    return Array.isArray(inserted) && inserted.length === 1 ? user : null;
  }

  /**
   * Links the identity to the account unless it is linked already (one atomic insert); true when
   * it is now linked to this account, false when it belongs to another one.
   */
  async linkIdentity(userId: string, issuer: string, subject: string): Promise<boolean> {
    await this.identities
      .createQueryBuilder()
      .insert()
      .values({ id: randomUUID(), userId, issuer, subject, createdAt: new Date() })
      .orIgnore()
      .execute();
    return this.identities.existsBy({ userId, issuer, subject });
  }

  /** Removes an account that lost a race to be an identity's, unless something links to it already. */
  async deleteIfUnlinked(id: string): Promise<void> {
    await this.users
      .createQueryBuilder()
      .delete()
      .where('id = :id', { id })
      .andWhere(`NOT EXISTS (SELECT 1 FROM "user_identities" "identity" WHERE "identity"."user_id" = :id)`, { id })
      .execute();
  }

  async updatePasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.users.update({ id }, { passwordHash });
  }

  async updateRole(id: string, role: UserRole): Promise<void> {
    await this.users.update({ id }, { role });
  }

  /** Applies an admin's changes; the account afterwards, or null when there is no such account. */
  async applyChanges(id: string, changes: AccountChanges): Promise<User | null> {
    const set = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    if (Object.keys(set).length > 0) await this.users.update({ id }, set);
    return this.findById(id);
  }
}
