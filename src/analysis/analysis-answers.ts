import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { CacheService, SingleFlightResult } from '../cache/cache.service';
import { AppConfig } from '../config/config.types';
import { MetricsService } from '../metrics/metrics.service';
import { ANALYSIS_CACHE_NAME, analysisCacheKey, sharedCacheKey } from './analysis-cache-key';
import type { AnalysedImage, AnalysisModeration, AnalysisResult, AnalysisUsage } from './analysis.types';
import { Analysis } from './entities/analysis.entity';
import type { ImageFingerprint } from './near-duplicate/image-fingerprint';
import { NearDuplicateIndex } from './near-duplicate/near-duplicate.index';
import { VISION_PROVIDER, VisionProvider } from './providers/vision-provider';
import { AnalysesRepository } from './repositories/analyses.repository';

/** The `cache` label of durable-cache look-ups (the analyses table) in `argus_cache_requests_total`. */
export const ANALYSIS_TABLE_CACHE_NAME = 'analysis-table';
/** The `cache` label of near-duplicate look-ups (perceptual hash) in `argus_cache_requests_total`. */
export const ANALYSIS_NEAR_CACHE_NAME = 'analysis-near';

/** An answer as the caches hold it: everything but the fields of one analysis. */
export interface CachedAnalysis {
  provider: string;
  model: string;
  result: AnalysisResult;
  /** What the upstream call that produced this answer cost. */
  usage: AnalysisUsage;
  image: AnalysedImage;
  /** The analysis whose job made the upstream call (absent in answers cached before jobs existed). */
  producedBy?: string;
  /** The answer's moderation (absent or null in answers made before moderation existed). */
  moderation?: AnalysisModeration | null;
  /** Set only on an answer found for a near-identical image (findNear); such answers are never cached. */
  near?: { distance: number };
}

/** Where one (image, prompt, model) question's answer is looked up and shared. */
export interface AnswerKeys {
  /** The answer's key, stored with every analysis (`cache_key`): the durable cache's key. */
  cacheKey: string;
  /** The Redis cache and single-flight key: `cacheKey`, within one user's answers in the user scope. */
  sharedKey: string;
  /** The user whose answers alone may be reused (ANALYSIS_CACHE_SCOPE=user); undefined in the global scope. */
  scopeUserId: string | undefined;
  /** The question's prompt (trimmed; null when none): near-duplicates must have been asked the same. */
  prompt: string | null;
  /** The image's perceptual hash and colour layout; null when unknown (then only the same bytes answer). */
  fingerprint: ImageFingerprint | null;
}

/**
 * Answers already given (docs/api.md, Image analysis): Redis (or the in-process cache) first, then the analyses
 * table — the durable cache that survives a Redis flush or restart — then, when the image's
 * perceptual hash is known, an answer for a near-identical image (docs/api.md, "Near-duplicates");
 * and the single-flight that makes concurrent identical questions share one upstream call.
 * ANALYSIS_CACHE_SCOPE=user keeps every look-up within the asking user's own analyses.
 */
@Injectable()
export class AnalysisAnswers {
  private readonly logger = new Logger(AnalysisAnswers.name);
  private readonly ttlMs: number;
  private readonly userScope: boolean;

  constructor(
    private readonly cache: CacheService,
    private readonly analyses: AnalysesRepository,
    private readonly metrics: MetricsService,
    private readonly nearDuplicates: NearDuplicateIndex,
    @Inject(VISION_PROVIDER) private readonly vision: VisionProvider,
    config: ConfigService<AppConfig, true>,
  ) {
    this.ttlMs = config.get('limits.analysisCacheTtlMs', { infer: true });
    this.userScope = config.get('analysis.cacheScope', { infer: true }) === 'user';
  }

  keysFor(
    sha256: string,
    prompt: string | null | undefined,
    userId: string,
    fingerprint: ImageFingerprint | null = null,
  ): AnswerKeys {
    const cacheKey = analysisCacheKey({
      sha256,
      prompt: prompt ?? undefined,
      provider: this.vision.name,
      model: this.vision.model,
    });
    const scopeUserId = this.userScope ? userId : undefined;
    return {
      cacheKey,
      sharedKey: sharedCacheKey(cacheKey, scopeUserId),
      scopeUserId,
      prompt: prompt ?? null,
      fingerprint,
    };
  }

  /**
   * The answer already given to this question within ANALYSIS_CACHE_TTL, if any: the same bytes
   * first, then (when `keys.fingerprint` is known) a near-identical image.
   */
  async find(keys: AnswerKeys): Promise<CachedAnalysis | undefined> {
    return (
      (await this.cache.get<CachedAnalysis>(keys.sharedKey, ANALYSIS_CACHE_NAME)) ??
      (await this.findStored(keys)) ??
      this.findNear(keys)
    );
  }

  /**
   * The answer of the nearest earlier analysis of a near-identical image (perceptual hash within
   * NEAR_DUPLICATE_MAX_DISTANCE; same prompt, provider and model; within ANALYSIS_CACHE_TTL; the
   * user's own in the user scope), marked `near`. Not cached under this image's key: the analysis
   * it answers becomes this image's exact answer in the table.
   */
  async findNear(keys: AnswerKeys): Promise<CachedAnalysis | undefined> {
    if (!keys.fingerprint || !this.nearDuplicates.enabled || !(this.ttlMs > 0)) return undefined;
    const match = await this.nearDuplicates.findNear(keys.fingerprint, {
      userId: keys.scopeUserId,
      prompt: keys.prompt,
      provider: this.vision.name,
      model: this.vision.model,
      since: new Date(Date.now() - this.ttlMs),
    });
    const source = match ? await this.analyses.findById(match.id) : null;
    const found = source?.status === 'succeeded' && source.result !== null;
    this.metrics.recordCache(ANALYSIS_NEAR_CACHE_NAME, found ? 'hit' : 'miss');
    if (!match || !found) return undefined;
    this.logger.log({ msg: 'near-duplicate answer found', source: source.id, distance: match.distance });
    return { ...answerOf(source), near: { distance: match.distance } };
  }

  /**
   * The newest answer in the analyses table; put back into the cache in front of it for the rest
   * of its lifetime, so the next look-up is a cache hit again.
   */
  async findStored(keys: AnswerKeys): Promise<CachedAnalysis | undefined> {
    if (!(this.ttlMs > 0)) return undefined;
    const now = Date.now();
    const answered = await this.analyses.findAnswered(keys.cacheKey, new Date(now - this.ttlMs), keys.scopeUserId);
    this.metrics.recordCache(ANALYSIS_TABLE_CACHE_NAME, answered ? 'hit' : 'miss');
    if (!answered) return undefined;
    const answer = answerOf(answered);
    await this.cache.set(keys.sharedKey, answer, this.ttlMs - (now - answered.createdAt.getTime()));
    return answer;
  }

  /** `compute` once for every concurrent asker of the same question, across replicas; its answer cached. */
  share(keys: AnswerKeys, compute: () => Promise<CachedAnalysis>): Promise<SingleFlightResult<CachedAnalysis>> {
    return this.cache.singleFlight(keys.sharedKey, this.ttlMs, compute, ANALYSIS_CACHE_NAME);
  }
}

/** A succeeded analysis as a cached answer. */
export function answerOf(analysis: Analysis): CachedAnalysis {
  return {
    provider: analysis.provider,
    model: analysis.model,
    result: analysis.result!,
    usage: { inputTokens: analysis.inputTokens, outputTokens: analysis.outputTokens, costUsd: analysis.costUsd },
    image: {
      format: analysis.imageFormat,
      width: analysis.imageWidth,
      height: analysis.imageHeight,
      bytes: analysis.imageBytes,
    },
    producedBy: analysis.id,
    moderation: analysis.moderation,
  };
}
