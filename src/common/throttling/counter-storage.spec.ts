import { ThrottlerStorageService } from '@nestjs/throttler';
import { CountRequest, incrementInTurn } from './counter-storage';

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
