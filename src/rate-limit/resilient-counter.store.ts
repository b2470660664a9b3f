import { Logger } from '@nestjs/common';
import type { CounterStore, CountRequest } from './counter-store';
import { InProcessCounterStore } from './in-process-counter.store';
import type { RateLimitDecision } from './sliding-window';

/**
 * Shared counters in Redis (so replicas share limits); while Redis is unreachable, counting
 * continues per process in memory rather than failing requests. Warns once per outage.
 */
export class ResilientCounterStore implements CounterStore {
  private readonly logger = new Logger(ResilientCounterStore.name);
  private degraded = false;

  constructor(
    private readonly shared: CounterStore,
    private readonly local = new InProcessCounterStore(),
  ) {}

  countAll(counts: readonly CountRequest[]): Promise<RateLimitDecision[]> {
    // A promise chain rather than async/await: this runs on every request.
    return this.shared.countAll(counts).then(
      (decisions) => {
        if (this.degraded) this.setDegraded(false);
        return decisions;
      },
      (error: unknown) => {
        if (!this.degraded) this.setDegraded(true, error);
        return this.local.countAllNow(counts);
      },
    );
  }

  private setDegraded(degraded: boolean, error?: unknown): void {
    this.degraded = degraded;
    if (degraded) {
      this.logger.warn({ msg: 'rate-limit store unreachable; counting per process', err: error });
    } else {
      this.logger.log({ msg: 'rate-limit store reachable again; counters shared' });
    }
  }
}
