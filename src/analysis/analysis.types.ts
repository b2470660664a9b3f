import type { StoredImageFormat } from '../storage/image-store';

/** What a vision provider answers (docs/api.md, Image analysis `result`). */
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

/** The normalised image that was analysed and stored (docs/api.md, Image analysis `image`). */
export interface AnalysedImage {
  format: StoredImageFormat;
  width: number;
  height: number;
  bytes: number;
}

export type AnalysisMetadata = Record<string, string | number | boolean>;

/** Where an analysis's job stands (docs/api.md, Image analysis): `queued` → `running` → `succeeded` | `failed`. */
export type AnalysisStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export function isTerminal(status: AnalysisStatus): boolean {
  return status === 'succeeded' || status === 'failed';
}

/** The RFC 9457 problem a failed analysis ended with (what a waiting upload would have answered). */
export interface AnalysisProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
}

/** A stored failure: the problem, and how long the upstream asked callers to wait (503). */
export interface StoredAnalysisProblem extends AnalysisProblem {
  retryAfterSeconds?: number;
}

/**
 * How an answer came from the cache: the same bytes (`exact`) or a near-identical image by
 * perceptual hash (`near`); `null` when the model was asked.
 */
export type AnalysisCacheKind = 'exact' | 'near' | null;

/** The moderation verdict (docs/api.md, "Moderation"): made once per answer, copied on a cache hit. */
export interface AnalysisModeration {
  decision: 'accept' | 'review' | 'reject';
  categories: Record<string, number>;
  provider: string;
}

/** An analysis as the API returns it. */
export interface AnalysisView {
  id: string;
  status: AnalysisStatus;
  sha256: string;
  cached: boolean;
  cache: AnalysisCacheKind;
  provider: string;
  model: string;
  prompt: string | null;
  /** Null until the job succeeded. */
  result: AnalysisResult | null;
  moderation: AnalysisModeration | null;
  /** The problem the job failed with; null otherwise. */
  error: AnalysisProblem | null;
  image: AnalysedImage;
  metadata: AnalysisMetadata;
  usage: AnalysisUsage;
  createdAt: string;
  /** When the job succeeded or failed; null while it is queued or running. */
  completedAt: string | null;
}

export interface AnalysisPage {
  items: AnalysisView[];
  nextCursor: string | null;
}

export const ZERO_USAGE: Readonly<AnalysisUsage> = Object.freeze({ inputTokens: 0, outputTokens: 0, costUsd: 0 });
