import { decide } from './moderation-policy';

describe('moderation decision', () => {
  const thresholds = { reviewAt: 0.5, rejectAt: 0.9 };

  it.each([
    [{ sexual: 0.1, suggestive: 0.49 }, 'accept'],
    [{ sexual: 0.1, suggestive: 0.5 }, 'review'],
    [{ sexual: 0.89, suggestive: 0.2 }, 'review'],
    [{ sexual: 0.9, suggestive: 0 }, 'reject'],
    [{ violence: 1 }, 'reject'],
    [{}, 'accept'],
  ])('%j → %s', (categories, decision) => {
    expect(decide(categories, thresholds)).toBe(decision);
  });

  it('follows the configured thresholds', () => {
    expect(decide({ sexual: 0.3 }, { reviewAt: 0.2, rejectAt: 0.3 })).toBe('reject');
    expect(decide({ sexual: 0.3 }, { reviewAt: 0.4, rejectAt: 0.95 })).toBe('accept');
  });

  it('ignores a score that is not a number', () => {
    expect(decide({ sexual: Number.NaN, other: 0.1 }, thresholds)).toBe('accept');
  });
});
