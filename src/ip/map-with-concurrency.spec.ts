import { mapWithConcurrency } from './map-with-concurrency';

/** A promise the test settles by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

describe('mapWithConcurrency', () => {
  const sut = mapWithConcurrency;

  it('keeps the items order whatever order the calls finish in', async () => {
    const delays = [30, 5, 20, 0, 10];
    const result = await sut(delays, 2, (ms, index) => new Promise((resolve) => setTimeout(() => resolve(index), ms)));
    expect(result).toEqual([0, 1, 2, 3, 4]);
  });

  it('never runs more than `limit` calls at once', async () => {
    let running = 0;
    let peak = 0;
    const gates = Array.from({ length: 10 }, () => deferred<void>());
    const done = sut(gates, 3, async (gate) => {
      running++;
      peak = Math.max(peak, running);
      await gate.promise;
      running--;
    });
    for (const gate of gates) {
      await new Promise((resolve) => setImmediate(resolve));
      gate.resolve();
    }
    await done;
    expect(peak).toBe(3);
  });

  it('answers an empty list without calling', async () => {
    const fn = jest.fn();
    await expect(sut([], 4, fn)).resolves.toEqual([]);
    expect(fn).not.toHaveBeenCalled();
  });

  it('rejects with the first failure', async () => {
    await expect(sut([1, 2, 3], 2, async (n) => (n === 2 ? Promise.reject(new Error('two')) : n))).rejects.toThrow(
      'two',
    );
  });

  it('refuses a limit below one', async () => {
    await expect(sut([1], 0, async (n) => n)).rejects.toThrow(RangeError);
  });
});
