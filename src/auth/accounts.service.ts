import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { AccessRevocations } from './access-revocations.service';
import { UserRole } from './auth.types';
import { User } from './entities/user.entity';
import { RefreshTokenService } from './refresh-token.service';
import { AccountChanges, UsersRepository } from './users.repository';

/** What an admin may change on an account (`PATCH /v1/admin/users/:id`); absent = unchanged. */
export interface AccountUpdate {
  role?: UserRole;
  /** null = back to AI_DAILY_LIMIT_PER_USER. */
  dailyLimit?: number | null;
  disabled?: boolean;
}

/** An account as admins see it. */
export interface AccountView {
  id: string;
  email: string | null;
  role: UserRole;
  disabled: boolean;
  /** null = AI_DAILY_LIMIT_PER_USER applies. */
  dailyLimit: number | null;
  createdAt: Date;
}

/**
 * Admin changes to accounts. Disabling stops every token of the account at once, on every replica
 * (refresh families revoked, access tokens refused through AccessRevocations) and refuses sign-in
 * until re-enabled; re-enabling brings no old session back. A role change also ends the account's
 * access tokens (they carry the role), so the next refresh carries the new one.
 */
@Injectable()
export class AccountsService {
  private readonly logger = new Logger(AccountsService.name);

  constructor(
    private readonly users: UsersRepository,
    private readonly refreshTokens: RefreshTokenService,
    private readonly revocations: AccessRevocations,
  ) {}

  async update(id: string, update: AccountUpdate, adminId: string): Promise<AccountView> {
    const user = await this.users.findById(id);
    if (!user) throw new NotFoundException('No account with this id.');
    const now = new Date();
    const changes: AccountChanges = { dailyLimit: update.dailyLimit };
    if (update.role !== undefined && update.role !== user.role) {
      changes.role = update.role;
      changes.tokensValidAfter = now;
    }
    if (update.disabled === true && user.disabledAt === null) {
      changes.disabledAt = now;
      changes.tokensValidAfter = now;
      await this.refreshTokens.revokeAllOf(id, now);
    } else if (update.disabled === false && user.disabledAt !== null) {
      changes.disabledAt = null;
    }

    const updated = (await this.users.applyChanges(id, changes)) ?? user;
    if (changes.tokensValidAfter !== undefined || changes.disabledAt !== undefined) {
      await this.revocations.userChanged(updated);
    }
    this.logger.log({
      msg: 'account changed by an admin',
      userId: id,
      adminId,
      changed: Object.keys(changes).filter((key) => changes[key as keyof AccountChanges] !== undefined),
    });
    return toAccountView(updated);
  }
}

function toAccountView(user: User): AccountView {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    disabled: user.disabledAt !== null,
    dailyLimit: user.dailyLimit,
    createdAt: user.createdAt,
  };
}
