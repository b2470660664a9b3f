import type { CounterStore, CountRequest } from './counter-store';
import { InProcessCounterStore } from './in-process-counter.store';
import { ResilientCounterStore } from './resilient-counter.store';

const count = (key: string, limit: number): CountRequest => ({ key, windowMs: 60_000, limit, cost: 1 });

describe('ResilientCounterStore', () => {
  it('counts in process, in order, while the shared store fails, and shares again when it answers', async () => {
    let failing = true;
    const shared = new InProcessCounterStore();
    const flaky: CounterStore = {
      countAll: (counts) => (failing ? Promise.reject(new Error('connection refused')) : shared.countAll(counts)),
    };
    const sut = new ResilientCounterStore(flaky, new InProcessCounterStore());

    await sut.countAll([count('a', 1), count('b', 5)]);
    const refused = await sut.countAll([count('a', 1), count('b', 5)]);
    expect(refused.map((decision) => decision.allowed)).toEqual([false]);
    expect((await sut.countAll([count('b', 5)]))[0].remaining).toBe(3);

    failing = false;
    expect((await sut.countAll([count('b', 5)]))[0].remaining).toBe(4);
    expect(shared.size).toBe(1);
  });
});
