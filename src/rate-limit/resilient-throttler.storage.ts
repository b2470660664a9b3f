import { Logger } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { CounterStorage, CountRequest, incrementInTurn } from './counter-storage';

/**
 * Shared counters in Redis (so replicas share limits); while Redis is unreachable, counting
 * continues per process in memory rather than failing requests. Warns once per outage.
 */
export class ResilientThrottlerStorage implements CounterStorage {
  private readonly logger = new Logger(ResilientThrottlerStorage.name);
  private readonly local = new ThrottlerStorageService();
  private degraded = false;

  constructor(private readonly shared?: CounterStorage) {}

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    return this.incrementAll([{ key, ttl, limit, blockDuration, throttlerName }]).then((records) => records[0]);
  }

  incrementAll(counts: readonly CountRequest[]): Promise<ThrottlerStorageRecord[]> {
    if (!this.shared) return incrementInTurn(this.local, counts);
    // A promise chain rather than async/await: this runs on every request.
    return this.shared.incrementAll(counts).then(
      (records) => {
        this.setDegraded(false);
        return records;
      },
      (error: unknown) => {
        this.setDegraded(true, error);
        return incrementInTurn(this.local, counts);
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
