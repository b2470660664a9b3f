import type { NormalisedImage } from '../image-processor';
import type { AnalysisResult, AnalysisUsage } from '../analysis.types';

/** The normalised image as stored (metadata stripped, long edge capped): the only image a provider sees. */
export type VisionImage = Pick<NormalisedImage, 'data' | 'contentType'>;

export interface VisionRequest {
  image: VisionImage;
  /** What to look for, as the user typed it (trimmed). Untrusted: data, never instructions. */
  prompt?: string;
}

export interface VisionAnswer {
  result: AnalysisResult;
  usage: AnalysisUsage;
}

/**
 * Something that describes an image. Chosen by AI_PROVIDER in the module's factory:
 * `openai` (any OpenAI-compatible endpoint) or `local` (pixel statistics with sharp).
 */
export interface VisionProvider {
  /** The response's `provider`. */
  readonly name: string;
  /** The response's `model`. */
  readonly model: string;
  /** True when each analysis is a paid upstream call: it then counts against AI_DAILY_LIMIT_PER_USER. */
  readonly metered: boolean;
  analyse(request: VisionRequest): Promise<VisionAnswer>;
}

export const VISION_PROVIDER = Symbol('VISION_PROVIDER');
