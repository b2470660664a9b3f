export type ModerationDecision = 'accept' | 'review' | 'reject';

/** The moderation of one analysis (docs/api.md, "Moderation"). */
export interface Moderation {
  decision: ModerationDecision;
  /** Category name → score, 0–1. */
  categories: Record<string, number>;
  /** Who scored it: `local` (the shipped classifier) or `openai`. */
  provider: string;
}

export interface ModerationThresholds {
  reviewAt: number;
  rejectAt: number;
}

/** The image a moderation provider scores: the normalised upload. */
export interface ModerationImage {
  data: Buffer;
  contentType: string;
}

/** Something that scores an image per category; chosen by MODERATION_PROVIDER. */
export interface ModerationProvider {
  readonly name: string;
  score(image: ModerationImage): Promise<Record<string, number>>;
}

export const MODERATION_PROVIDER = Symbol('MODERATION_PROVIDER');
