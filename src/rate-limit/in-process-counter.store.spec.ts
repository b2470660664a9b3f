import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CountRequest } from './counter-store';
import { InProcessCounterStore } from './in-process-counter.store';

const WINDOW = 60_000;
const T0 = 29_000_000 * WINDOW;

const count = (key: string, limit: number, cost = 1): CountRequest => ({ key, windowMs: WINDOW, limit, cost });

describe('InProcessCounterStore', () => {
  let now: number;
  let sut: InProcessCounterStore;
  beforeEach(() => {
    now = T0;
    sut = new InProcessCounterStore(() => now);
  });

  it('counts every counter in order while none refuses', () => {
    expect(sut.countAllNow([count('a', 5), count('b', 5)]).map((decision) => decision.remaining)).toEqual([4, 4]);
  });

  it('stops at the first refused counter: neither it nor the ones after it are counted', () => {
    sut.countAllNow([count('a', 1), count('b', 5)]);
    const refused = sut.countAllNow([count('a', 1), count('b', 5)]);
    expect(refused).toEqual([{ allowed: false, remaining: 0, reset: 120, retryAfter: 120 }]);
    expect(sut.countAllNow([count('b', 5)])[0].remaining).toBe(3);
  });

  it('counts by the injected clock: the window slides as it moves', () => {
    for (let i = 0; i < 3; i++) sut.countAllNow([count('a', 3)]);
    expect(sut.countAllNow([count('a', 3)])[0]).toMatchObject({ allowed: false, retryAfter: 80 }); // 60 s + 20 s into the next
    now = T0 + WINDOW + WINDOW / 3; // the 3 hits now weigh 2
    expect(sut.countAllNow([count('a', 3)])[0]).toMatchObject({ allowed: true, remaining: 0, reset: 40 });
    expect(sut.countAllNow([count('a', 3)])[0]).toMatchObject({ allowed: false, retryAfter: 20 });
  });

  it('lets idle counters go once two windows have passed, and keeps the ones still counting', () => {
    for (let i = 0; i < 1000; i++) sut.countAllNow([count(`idle-${i}`, 5)]);
    now = T0 + WINDOW;
    sut.countAllNow([count('busy', 5)]);
    expect(sut.size).toBe(1001); // the idle ones still weigh on this window
    now = T0 + 2 * WINDOW;
    sut.countAllNow([count('busy', 5)]);
    expect(sut.size).toBe(1);
    expect(sut.countAllNow([count('busy', 5)])[0].remaining).toBe(2); // 1 (weighted) + 1 + this one
  });

  it('keeps a counter touched in the previous window when the clock skips ahead by one', () => {
    sut.countAllNow([count('a', 2), count('a', 2)]);
    now = T0 + WINDOW;
    expect(sut.countAllNow([count('a', 2)])[0].allowed).toBe(false);
  });

  it('holds a client for less than 200 bytes', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const clients = 200_000;
    const keys = Array.from(
      { length: clients },
      (_, i) => `rl:default:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    );
    gc();
    const before = process.memoryUsage().heapUsed;
    for (const key of keys) sut.countAllNow([count(key, 120)]);
    gc();
    const perClient = (process.memoryUsage().heapUsed - before) / clients;
    if (process.env.SHOW_MEMORY) console.warn(`${perClient.toFixed(1)} bytes per client`);
    expect(sut.size).toBe(clients);
    // The keys are allocated before measuring: this is the store's own cost (the map and the counter).
    expect(perClient).toBeLessThan(200);
  });
});
