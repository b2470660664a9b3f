import type { Request } from 'express';

export const USER_ROLES = ['user', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export function isUserRole(value: unknown): value is UserRole {
  return typeof value === 'string' && (USER_ROLES as readonly string[]).includes(value);
}

/** Who is calling: set on `req.user` by the global JwtAuthGuard, read with `@CurrentUser()`. */
export interface AuthenticatedUser {
  id: string;
  email: string;
  role: UserRole;
}

/** A request that passed the JwtAuthGuard. */
export type AuthenticatedRequest = Request & { user: AuthenticatedUser };
