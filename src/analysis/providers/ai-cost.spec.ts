import { computeCostUsd, priceFor } from './ai-cost';

describe('computeCostUsd', () => {
  const gpt4oMini = { inputPerMillion: 0.15, outputPerMillion: 0.6 };

  it('prices input and output tokens per million', () => {
    expect(computeCostUsd(1_000_000, 0, gpt4oMini)).toBe(0.15);
    expect(computeCostUsd(0, 1_000_000, gpt4oMini)).toBe(0.6);
    expect(computeCostUsd(850, 60, gpt4oMini)).toBe(0.0001635);
  });

  it('rounds away floating-point noise (to 1e-9 dollars)', () => {
    // (0.1 + 0.2) / 1e6 is 3.0000000000000004e-7 in floating point
    expect(computeCostUsd(1, 1, { inputPerMillion: 0.1, outputPerMillion: 0.2 })).toBe(3e-7);
    expect(computeCostUsd(3, 0, { inputPerMillion: 0.1, outputPerMillion: 0 })).toBe(3e-7);
    expect(computeCostUsd(1234, 567, { inputPerMillion: 2.5, outputPerMillion: 10 })).toBe(0.008755);
  });

  it('is zero without a known price or without tokens', () => {
    expect(computeCostUsd(1000, 1000, undefined)).toBe(0);
    expect(computeCostUsd(0, 0, gpt4oMini)).toBe(0);
  });
});

describe('priceFor', () => {
  const prices = {
    'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
    'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  };

  it('finds an exact entry', () => {
    expect(priceFor(prices, 'gpt-4o')).toBe(prices['gpt-4o']);
  });

  it('finds the longest entry a dated snapshot name starts with', () => {
    expect(priceFor(prices, 'gpt-4o-mini-2024-07-18')).toBe(prices['gpt-4o-mini']);
    expect(priceFor(prices, 'gpt-4o-2024-08-06')).toBe(prices['gpt-4o']);
  });

  it('answers undefined for an unknown model', () => {
    expect(priceFor(prices, 'llava-13b')).toBeUndefined();
    expect(priceFor(prices, 'gpt-4oXL')).toBeUndefined();
  });
});
