import { ThrottlerStorageService } from '@nestjs/throttler';
import { CountRequest, incrementInTurn, isCounterStorage } from './counter-storage';
import { ResilientThrottlerStorage } from './resilient-throttler.storage';

const count = (key: string, limit: number): CountRequest => ({
  key,
  ttl: 60_000,
  limit,
  blockDuration: 60_000,
  throttlerName: 'test',
});

describe('incrementInTurn', () => {
  let storage: ThrottlerStorageService;
  beforeEach(() => (storage = new ThrottlerStorageService()));
  afterEach(() => storage.onApplicationShutdown());

  it('counts every counter in order while none is blocked', async () => {
    const records = await incrementInTurn(storage, [count('a', 5), count('b', 5)]);
    expect(records.map((record) => [record.totalHits, record.isBlocked])).toEqual([
      [1, false],
      [1, false],
    ]);
  });

  it('stops after the first blocked counter: the ones after it are not counted', async () => {
    await incrementInTurn(storage, [count('a', 1), count('b', 5)]);
    const refused = await incrementInTurn(storage, [count('a', 1), count('b', 5)]);
    expect(refused).toHaveLength(1);
    expect(refused[0].isBlocked).toBe(true);

    const [b] = await incrementInTurn(storage, [count('b', 5)]);
    expect(b.totalHits).toBe(2);
  });
});

describe('ResilientThrottlerStorage.incrementAll', () => {
  it('counts in process, in order, while the shared store fails, and says it can count several at once', async () => {
    const failing = {
      increment: () => Promise.reject(new Error('connection refused')),
      incrementAll: () => Promise.reject(new Error('connection refused')),
    };
    const storage = new ResilientThrottlerStorage(failing);
    try {
      expect(isCounterStorage(storage)).toBe(true);
      await storage.incrementAll([count('a', 1), count('b', 5)]);
      const refused = await storage.incrementAll([count('a', 1), count('b', 5)]);
      expect(refused.map((record) => record.isBlocked)).toEqual([true]);
      expect((await storage.increment('b', 60_000, 5, 60_000, 'test')).totalHits).toBe(2);
    } finally {
      storage.onApplicationShutdown();
    }
  });

  it('answers from the shared store when it works', async () => {
    const shared = new ThrottlerStorageService();
    const storage = new ResilientThrottlerStorage({
      increment: (...args) => shared.increment(...args),
      incrementAll: (counts) => incrementInTurn(shared, counts),
    });
    try {
      await storage.incrementAll([count('a', 5)]);
      expect((await shared.increment('a', 60_000, 5, 60_000, 'test')).totalHits).toBe(2);
    } finally {
      storage.onApplicationShutdown();
      shared.onApplicationShutdown();
    }
  });
});
