import type { StoredImageFormat } from '../storage/image-store';

/** What a vision provider answers (CONTRACT §3 `result`). */
export interface AnalysisResult {
  summary: string;
  tags: string[];
  details: Record<string, unknown>;
}

/** What one analysis cost. Zero for the local provider and for answers served from cache. */
export interface AnalysisUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** The normalised image that was analysed and stored (CONTRACT §3 `image`). */
export interface AnalysedImage {
  format: StoredImageFormat;
  width: number;
  height: number;
  bytes: number;
}

export type AnalysisMetadata = Record<string, string | number | boolean>;

/** An analysis as the API returns it. */
export interface AnalysisView {
  id: string;
  sha256: string;
  cached: boolean;
  provider: string;
  model: string;
  prompt: string | null;
  result: AnalysisResult;
  image: AnalysedImage;
  metadata: AnalysisMetadata;
  usage: AnalysisUsage;
  createdAt: string;
}

export interface AnalysisPage {
  items: AnalysisView[];
  nextCursor: string | null;
}

export const ZERO_USAGE: Readonly<AnalysisUsage> = Object.freeze({ inputTokens: 0, outputTokens: 0, costUsd: 0 });
