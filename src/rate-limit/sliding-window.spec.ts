import { countHit, toDecision, WindowState } from './sliding-window';

const WINDOW = 60_000;
/** An instant at the start of a window (the windows are aligned on multiples of their length). */
const T0 = 29_000_000 * WINDOW;

const empty = (): WindowState => ({ window: -1, current: 0, previous: 0 });

describe('countHit (sliding window counter)', () => {
  it('admits `limit` hits in a window and refuses the next without counting it', () => {
    const sut = empty();
    const outcomes = Array.from({ length: 4 }, () => countHit(sut, T0 + 1000, WINDOW, 3, 1));
    expect(outcomes.map(([allowed, remaining]) => [allowed, remaining])).toEqual([
      [1, 2],
      [1, 1],
      [1, 0],
      [0, 0],
    ]);
    expect(sut).toEqual({ window: T0 / WINDOW, current: 3, previous: 0 });
  });

  it('weights the previous window by the part the sliding window still covers', () => {
    const sut = empty();
    for (let i = 0; i < 10; i++) countHit(sut, T0 + 59_000, WINDOW, 10, 1);
    // A quarter into the next window, 3/4 of the previous 10 still count: 7.5 of 10 used.
    const [allowed, remaining] = countHit(sut, T0 + WINDOW + 15_000, WINDOW, 10, 1);
    expect([allowed, remaining]).toEqual([1, 1]);
    expect(countHit(sut, T0 + WINDOW + 15_000, WINDOW, 10, 1)[0]).toBe(1);
    // 7.5 + 2 + 1 > 10: refused, and it says when the previous window's weight lets one more in.
    const [refused, , waitMs] = countHit(sut, T0 + WINDOW + 15_000, WINDOW, 10, 1);
    expect(refused).toBe(0);
    expect(waitMs).toBe(3000); // at 18 s the previous 10 weigh 7: 7 + 2 + 1 = 10.
    expect(countHit(sut, T0 + WINDOW + 17_999, WINDOW, 10, 1)[0]).toBe(0);
    expect(countHit(sut, T0 + WINDOW + 18_000, WINDOW, 10, 1)[0]).toBe(1);
  });

  it('forgets a window two windows later, and reports the end of the current window as the reset', () => {
    const sut = empty();
    countHit(sut, T0 + 500, WINDOW, 1, 1);
    expect(countHit(sut, T0 + 2 * WINDOW, WINDOW, 1, 1)).toEqual([1, 0, WINDOW]);
    expect(countHit(sut, T0 + 2 * WINDOW + 59_999, WINDOW, 5, 1)).toEqual([1, 3, 1]);
  });

  it('waits past the window boundary when the current window alone is full', () => {
    const sut = empty();
    for (let i = 0; i < 4; i++) countHit(sut, T0 + 40_000, WINDOW, 4, 1);
    // 20 s left here; then in the next window 4 × (1 − e) + 1 ≤ 4 from e = 1/4: 15 s in.
    expect(countHit(sut, T0 + 40_000, WINDOW, 4, 1)).toEqual([0, 0, 35_000]);
    expect(countHit(sut, T0 + WINDOW + 14_999, WINDOW, 4, 1)[0]).toBe(0);
    expect(countHit(sut, T0 + WINDOW + 15_000, WINDOW, 4, 1)[0]).toBe(1);
  });

  it('counts a cost all or nothing, and a cost above the limit never fits', () => {
    const sut = empty();
    countHit(sut, T0, WINDOW, 5, 1);
    expect(countHit(sut, T0, WINDOW, 5, 5)[0]).toBe(0);
    expect(sut.current).toBe(1);
    expect(countHit(sut, T0, WINDOW, 5, 4)).toEqual([1, 0, WINDOW]);
    expect(countHit(empty(), T0 + 10_000, WINDOW, 5, 6)).toEqual([0, 0, 110_000]);
  });

  it('stays exact at the largest configurable limit', () => {
    const sut = empty();
    expect(countHit(sut, T0 + 30_000, WINDOW, 1_000_000, 999_999)).toEqual([1, 1, 30_000]);
    expect(countHit(sut, T0 + 30_000, WINDOW, 1_000_000, 1)).toEqual([1, 0, 30_000]);
    expect(countHit(sut, T0 + 30_000, WINDOW, 1_000_000, 1)[0]).toBe(0);
  });
});

describe('toDecision', () => {
  it('rounds waits up to whole seconds, at least one', () => {
    expect(toDecision([1, 4, 59_001])).toEqual({ allowed: true, remaining: 4, reset: 60, retryAfter: 0 });
    expect(toDecision([0, 0, 1])).toEqual({ allowed: false, remaining: 0, reset: 1, retryAfter: 1 });
    expect(toDecision([0, 0, 35_000])).toEqual({ allowed: false, remaining: 0, reset: 35, retryAfter: 35 });
  });
});
