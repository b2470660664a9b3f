import type { Request } from 'express';

export const USER_ROLES = ['user', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export function isUserRole(value: unknown): value is UserRole {
  return typeof value === 'string' && (USER_ROLES as readonly string[]).includes(value);
}

/** Who is calling: set on `req.user` by the global JwtAuthGuard, read with `@CurrentUser()`. */
export interface AuthenticatedUser {
  id: string;
  /** Null for an identity-provider account that has not claimed a (verified) email. */
  email: string | null;
  role: UserRole;
}

/** A verified access token (Argus's own or an identity provider's) and whom it names. */
export interface VerifiedAccessToken {
  user: AuthenticatedUser;
  /** What a logout puts on the deny-list: the `jti`, or the SHA-256 of a provider token. */
  tokenId: string;
  /** When it was issued, in epoch ms (to the millisecond for Argus tokens, see uuid-v7.ts). */
  issuedAtMs: number;
  /** Its `exp`, in epoch ms. */
  expiresAtMs: number;
}

/** A request that passed the JwtAuthGuard. */
export type AuthenticatedRequest = Request & { user: AuthenticatedUser; accessToken: VerifiedAccessToken };

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** What the global JwtAuthGuard puts on `req.user` (the same shape passport's typings use). */
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends AuthenticatedUser {}
    interface Request {
      user?: User;
    }
  }
}
