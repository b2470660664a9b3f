import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedMutex } from './keyed-mutex';

describe('KeyedMutex', () => {
  it('runs work on one key one at a time, in order, and other keys alongside', async () => {
    const sut = new KeyedMutex();
    const events: string[] = [];
    const task = (name: string, ms: number) => async () => {
      events.push(`${name} start`);
      await sleep(ms);
      events.push(`${name} end`);
      return name;
    };

    const results = await Promise.all([
      sut.run('a', task('a1', 30)),
      sut.run('a', task('a2', 1)),
      sut.run('b', task('b1', 5)),
    ]);

    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(events.indexOf('a2 start')).toBeGreaterThan(events.indexOf('a1 end'));
    expect(events.indexOf('b1 start')).toBeLessThan(events.indexOf('a1 end'));
  });

  it('lets the next work run after a failure, and forgets idle keys', async () => {
    const sut = new KeyedMutex();
    const failed = sut.run('k', () => Promise.reject(new Error('boom')));
    const next = sut.run('k', () => Promise.resolve('ok'));

    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
    expect((sut as unknown as { tails: Map<string, unknown> }).tails.size).toBe(0);
  });
});
