import { Injectable } from '@nestjs/common';

/**
 * The time webhook delivery runs on: retry schedules, leases, the 24 h disable rule and the
 * `webhook-timestamp` header. One small injectable so tests can move time forward.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
