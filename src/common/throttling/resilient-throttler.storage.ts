import { Logger } from '@nestjs/common';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';

/**
 * Shared counters in Redis (so replicas share limits); while Redis is unreachable, counting
 * continues per process in memory rather than failing requests. Warns once per outage.
 */
export class ResilientThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger(ResilientThrottlerStorage.name);
  private readonly local = new ThrottlerStorageService();
  private degraded = false;

  /** `keyPrefix` keeps deployments (and test runs) that share one Redis apart. */
  constructor(
    private readonly shared?: ThrottlerStorage,
    private readonly keyPrefix = '',
  ) {}

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const countLocally = () => this.local.increment(key, ttl, limit, blockDuration, throttlerName);
    if (!this.shared) return countLocally();
    // A promise chain rather than async/await: this runs on every request, twice.
    return this.shared.increment(this.keyPrefix + key, ttl, limit, blockDuration, throttlerName).then(
      (record) => {
        this.setDegraded(false);
        return record;
      },
      (error: unknown) => {
        this.setDegraded(true, error);
        return countLocally();
      },
    );
  }

  onApplicationShutdown(): void {
    this.local.onApplicationShutdown();
  }

  private setDegraded(degraded: boolean, error?: unknown): void {
    if (degraded === this.degraded) return;
    this.degraded = degraded;
    if (degraded) {
      this.logger.warn({ msg: 'rate-limit store unreachable; counting per process', err: error });
    } else {
      this.logger.log({ msg: 'rate-limit store reachable again; counters shared' });
    }
  }
}
