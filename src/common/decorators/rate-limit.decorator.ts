import { SetMetadata } from '@nestjs/common';

/**
 * Named rate limits beyond the global per-IP one. `auth` counts per client IP, `analysis` and `ip`
 * count per authenticated user. Limits come from configuration (CONTRACT §6).
 */
export type RateLimitScope = 'auth' | 'analysis' | 'ip';

export const RATE_LIMIT_SCOPE_KEY = 'rateLimitScope';

export const RateLimit = (scope: RateLimitScope) => SetMetadata(RATE_LIMIT_SCOPE_KEY, scope);
