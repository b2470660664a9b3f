import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, Repository } from 'typeorm';
import { UserRole } from './auth.types';
import { User } from './entities/user.entity';

export interface NewUser {
  email: string;
  passwordHash: string | null;
  externalId?: string | null;
  role?: UserRole;
}

/** A user together with its password hash, for the login check only. */
export interface UserCredentials {
  user: User;
  passwordHash: string | null;
}

@Injectable()
export class UsersRepository {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  findByExternalId(externalId: string): Promise<User | null> {
    return this.users.findOneBy({ externalId });
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
   * Inserts the user unless its email (or external id) is taken, in one statement that both
   * PostgreSQL and SQLite run atomically: concurrent sign-ups of one email create exactly one row.
   * Returns null when the row already existed. No failed INSERT reaches the query-error log (which
   * would print the parameters, password hash included).
   */
  async insertIfAbsent(fields: NewUser): Promise<User | null> {
    const user = Object.assign(new User(), {
      id: randomUUID(),
      email: fields.email,
      role: fields.role ?? 'user',
      externalId: fields.externalId ?? null,
      createdAt: new Date(),
    });
    const [sql, parameters] = this.dataSource.driver.escapeQueryWithParameters(
      `INSERT INTO "users" ("id", "email", "password_hash", "role", "external_id", "created_at")
       VALUES (:id, :email, :passwordHash, :role, :externalId, :createdAt)
       ON CONFLICT DO NOTHING
       RETURNING "id"`,
      { ...user, passwordHash: fields.passwordHash },
      {},
    );
    const inserted: unknown = await this.dataSource.query(sql, parameters);
    return Array.isArray(inserted) && inserted.length === 1 ? user : null;
  }

  async updatePasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.users.update({ id }, { passwordHash });
  }
}
