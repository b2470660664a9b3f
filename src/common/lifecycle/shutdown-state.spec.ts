import { getMaxListeners } from 'node:events';
import { ShutdownState } from './shutdown-state';

describe('ShutdownState', () => {
  it('aborts its signal once, on begin', () => {
    const state = new ShutdownState();
    const aborted = jest.fn();
    state.signal.addEventListener('abort', aborted);
    expect(state.isShuttingDown).toBe(false);
    state.begin();
    state.begin();
    expect(state.isShuttingDown).toBe(true);
    expect(aborted).toHaveBeenCalledTimes(1);
  });

  it('takes a listener per waiting request without a listener-leak limit (Node warns past ten by default)', () => {
    expect(getMaxListeners(new ShutdownState().signal)).toBe(Number.POSITIVE_INFINITY);
    expect(getMaxListeners(new AbortController().signal)).toBe(10);
  });
});
