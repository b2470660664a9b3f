import type { ModerationDecision, ModerationThresholds } from './moderation.types';

/**
 * The decision from category scores: `reject` when any category reaches MODERATION_REJECT_AT,
 * `review` when any reaches MODERATION_REVIEW_AT, `accept` otherwise (no categories: accept).
 */
export function decide(
  categories: Record<string, number>,
  { reviewAt, rejectAt }: ModerationThresholds,
): ModerationDecision {
  const highest = Math.max(0, ...Object.values(categories).filter(Number.isFinite));
  if (highest >= rejectAt) return 'reject';
  return highest >= reviewAt ? 'review' : 'accept';
}
