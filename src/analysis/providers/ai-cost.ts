import type { ModelPrice } from '../../config/config.types';

/**
 * US dollars for one call: tokens × the model's price per million. Rounded to 1e-9 dollars so sums
 * of many calls stay readable (0.000183 rather than 0.00018299999999999998).
 */
export function computeCostUsd(inputTokens: number, outputTokens: number, price: ModelPrice | undefined): number {
  if (!price) return 0;
  const cost = (inputTokens * price.inputPerMillion + outputTokens * price.outputPerMillion) / 1_000_000;
  return Math.round(cost * 1e9) / 1e9;
}

/**
 * The price of `model` from the table: an exact entry, else the longest entry that is a prefix of a
 * dated snapshot name (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`), else undefined.
 */
export function priceFor(prices: Record<string, ModelPrice>, model: string): ModelPrice | undefined {
  if (prices[model]) return prices[model];
  const prefix = Object.keys(prices)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  return prefix === undefined ? undefined : prices[prefix];
}
