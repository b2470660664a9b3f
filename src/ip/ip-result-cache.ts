import { Injectable } from '@nestjs/common';
import { CacheService } from '../cache/cache.service';
import type { IpReputation } from './ip-reputation.types';

/** The `cache` label of this cache in `argus_cache_requests_total`. */
export const IP_CACHE_NAME = 'ip';

/** A cached answer: the response minus `cached`, which each request decides for itself. */
export type CachedReputation = Omit<IpReputation, 'cached'>;

export interface CachedLookup {
  value: CachedReputation;
  /** True when this request made no provider call (a cache hit, or a concurrent lookup's result). */
  cached: boolean;
}

export interface FreshReputation {
  value: CachedReputation;
  /** How long this answer may be served from cache (0: not at all). */
  ttlMs: number;
}

/**
 * Answers per address, shared by replicas through CacheService. Concurrent lookups of one address
 * share one computation (single-flight, across replicas with Redis). The TTL is chosen per answer
 * once it is known, so a degraded answer can be cached more briefly than a healthy one: the flight
 * stores nothing itself (TTL 0) and `compute`'s result is stored here, before the flight ends, where
 * followers on other replicas find it.
 */
@Injectable()
export class IpResultCache {
  constructor(private readonly cache: CacheService) {}

  getOrCompute(ip: string, compute: () => Promise<FreshReputation>): Promise<CachedLookup> {
    const key = cacheKey(ip);
    return this.cache.singleFlight(
      key,
      0,
      async () => {
        const fresh = await compute();
        await this.cache.set(key, fresh.value, fresh.ttlMs);
        return fresh.value;
      },
      IP_CACHE_NAME,
    );
  }

  /** Drops the address's cached answer (a new report changes its score). */
  forget(ip: string): Promise<void> {
    return this.cache.delete(cacheKey(ip));
  }
}

function cacheKey(ip: string): string {
  // v2: answers carry asn, asOrg, network and allowlisted (an older replica's v1 answers lack them).
  return `ip:reputation:v2:${ip}`;
}
