import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';

/** One rate-limit counter to add a hit to: `ThrottlerStorage.increment`'s arguments. */
export interface CountRequest {
  key: string;
  ttl: number;
  limit: number;
  blockDuration: number;
  throttlerName: string;
}

/** A throttler storage that can count several counters at once. */
export interface CounterStorage extends ThrottlerStorage {
  /**
   * Adds a hit to each counter in order and stops after the first that is blocked, so a request
   * refused by one limit is not counted by the next: the records answer a prefix of `counts`, and
   * only the last may be blocked.
   */
  incrementAll(counts: readonly CountRequest[]): Promise<ThrottlerStorageRecord[]>;
}

export function isCounterStorage(storage: ThrottlerStorage): storage is CounterStorage {
  return typeof (storage as Partial<CounterStorage>).incrementAll === 'function';
}

/** `incrementAll` for a storage that counts one counter at a time. */
export async function incrementInTurn(
  storage: ThrottlerStorage,
  counts: readonly CountRequest[],
): Promise<ThrottlerStorageRecord[]> {
  const records: ThrottlerStorageRecord[] = [];
  for (const { key, ttl, limit, blockDuration, throttlerName } of counts) {
    const record = await storage.increment(key, ttl, limit, blockDuration, throttlerName);
    records.push(record);
    if (record.isBlocked) break;
  }
  return records;
}
