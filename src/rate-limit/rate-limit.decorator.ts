import { SetMetadata } from '@nestjs/common';

/**
 * Named rate limits beyond the global per-IP one. `auth` counts per client IP, `analysis` and `ip`
 * count per authenticated user. Limits come from configuration (docs/operations.md, Configuration).
 */
export const RATE_LIMIT_SCOPES = ['auth', 'analysis', 'ip'] as const;
export type RateLimitScope = (typeof RATE_LIMIT_SCOPES)[number];

export const RATE_LIMIT_SCOPE_KEY = 'rateLimitScope';
export const SKIP_RATE_LIMIT_KEY = 'skipRateLimit';

/** Counts the route (or controller) against the named limit too, besides the global per-IP one. */
export const RateLimit = (scope: RateLimitScope) => SetMetadata(RATE_LIMIT_SCOPE_KEY, scope);

/** Opts a route (or controller) out of every rate limit: health probes and metrics scrapes. */
export const SkipRateLimit = () => SetMetadata(SKIP_RATE_LIMIT_KEY, true);
