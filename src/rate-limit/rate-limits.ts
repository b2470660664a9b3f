import type { LimitSettings } from '../config/config.types';
import { RATE_LIMIT_SCOPES, type RateLimitScope } from './rate-limit.decorator';

/** `default` counts every routed request; the scopes count only the routes marked `@RateLimit(scope)`. */
export type RateLimitName = 'default' | RateLimitScope;

/** Whom a limit counts: the client address (before authentication) or the authenticated user. */
export type RateLimitSubject = 'ip' | 'user';

/** The `X-RateLimit-*` header names of one limit. */
export interface RateLimitHeaders {
  limit: string;
  remaining: string;
  reset: string;
}

/** One configured limit: `limit` hits per sliding window of `windowMs` (docs/api.md, Conventions, §6). */
export interface RateLimitDefinition {
  name: RateLimitName;
  subject: RateLimitSubject;
  limit: number;
  windowMs: number;
  headers: RateLimitHeaders;
}

export const RATE_LIMIT_WINDOW_MS = 60_000;

const HEADER_BASES = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'] as const;

/** `X-RateLimit-*`, with a scope's name as a suffix (`X-RateLimit-Remaining-ip`); `default` has none. */
export function rateLimitHeaders(name: RateLimitName): RateLimitHeaders {
  const suffix = name === 'default' ? '' : `-${name}`;
  const [limit, remaining, reset] = HEADER_BASES.map((base) => base + suffix);
  return { limit, remaining, reset };
}

/** The whom-part of a counter's key: the address itself, or `user:<id>`. */
export function userTracker(userId: string): string {
  return `user:${userId}`;
}

/** The one key format of every counter (the Redis store adds the deployment's prefix). */
export function rateLimitKey(name: RateLimitName, tracker: string): string {
  return `rl:${name}:${tracker}`;
}

/** The limits of this deployment, in the order a request is counted by them. */
export function rateLimitDefinitions(limits: LimitSettings): RateLimitDefinition[] {
  const define = (name: RateLimitName, subject: RateLimitSubject, limit: number): RateLimitDefinition => ({
    name,
    subject,
    limit,
    windowMs: RATE_LIMIT_WINDOW_MS,
    headers: rateLimitHeaders(name),
  });
  return [
    define('default', 'ip', limits.ratePerMinute),
    define('auth', 'ip', limits.authPerMinute),
    define('analysis', 'user', limits.analysisPerMinute),
    define('ip', 'user', limits.ipPerMinute),
  ];
}

/** Every limit's name, `default` first. */
export const RATE_LIMIT_NAMES: readonly RateLimitName[] = ['default', ...RATE_LIMIT_SCOPES];

/** Headers a rate limit may answer with (for CORS `Access-Control-Expose-Headers`). */
export const RATE_LIMIT_RESPONSE_HEADERS: readonly string[] = [
  'Retry-After',
  ...RATE_LIMIT_NAMES.flatMap((name) => Object.values(rateLimitHeaders(name))),
];
