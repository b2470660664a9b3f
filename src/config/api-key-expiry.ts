const DAY_MS = 86_400_000;

export type KeyExpiryState = 'ok' | 'expiring' | 'expired';

export interface KeyExpiryStatus {
  provider: string;
  expiresAt: Date;
  daysLeft: number;
  state: KeyExpiryState;
}

/**
 * Where a key with a known expiry (`<PROVIDER>_API_KEY_EXPIRES_AT`) stands at `now`, in whole days
 * left. The one rule behind the expiry alert and the `apiKeys` entry of /health/ready.
 */
export function keyExpiryStatus(provider: string, expiresAt: Date, warnDays: number, now: Date): KeyExpiryStatus {
  const daysLeft = Math.floor((expiresAt.getTime() - now.getTime()) / DAY_MS);
  const state: KeyExpiryState = daysLeft < 0 ? 'expired' : daysLeft <= warnDays ? 'expiring' : 'ok';
  return { provider, expiresAt, daysLeft, state };
}
