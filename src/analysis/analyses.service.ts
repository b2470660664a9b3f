import { Inject, Injectable, Logger, NotFoundException, StreamableFile } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHash } from 'node:crypto';
import type { AuthenticatedUser } from '../auth/auth.types';
import { CacheService, SingleFlightResult } from '../cache/cache.service';
import { ValidationFailedException } from '../common/errors/validation.exception';
import { AppConfig } from '../config/config.types';
import { IMAGE_STORE, ImageStore, StoredImageRef } from '../storage/image-store';
import { QuotaService } from '../quota/quota.service';
import { ANALYSIS_CACHE_NAME, analysisCacheKey } from './analysis-cache-key';
import { decodeCursor, encodeCursor } from './analysis-cursor';
import { parseAnalysisMetadata } from './analysis-metadata';
import { DailyQuotaExceededError } from './analysis.errors';
import {
  AnalysedImage,
  AnalysisMetadata,
  AnalysisPage,
  AnalysisResult,
  AnalysisUsage,
  AnalysisView,
  ZERO_USAGE,
} from './analysis.types';
import { Analysis } from './entities/analysis.entity';
import { ImageProcessor } from './image-processor';
import { VISION_PROVIDER, VisionProvider } from './providers/vision-provider';
import { AnalysesRepository } from './repositories/analyses.repository';
import { ImageUpload } from './upload/image-upload';

export interface CreateAnalysisInput {
  /** Trimmed; undefined when none was given. */
  prompt?: string;
  /** The `metadata` field as sent (validated by the DTO). */
  metadata?: string;
}

/** What the analysis cache holds per (upload, prompt, provider, model): everything but the per-request fields. */
export interface CachedAnalysis {
  provider: string;
  model: string;
  result: AnalysisResult;
  /** What the upstream call that produced this answer cost. */
  usage: AnalysisUsage;
  image: AnalysedImage;
}

/**
 * Image analysis (CONTRACT §3). An upload is hashed; identical uploads with the same prompt share
 * one answer through the cache, and concurrent ones share one upstream call (single-flight, across
 * replicas with Redis). Only the request whose call really ran spends AI quota and reports usage.
 * Every request writes its own history row; failures write none.
 */
@Injectable()
export class AnalysesService {
  private readonly logger = new Logger(AnalysesService.name);
  private readonly cacheTtlMs: number;
  private readonly dailyLimit: number;

  constructor(
    private readonly analyses: AnalysesRepository,
    private readonly processor: ImageProcessor,
    private readonly cache: CacheService,
    private readonly quota: QuotaService,
    @Inject(VISION_PROVIDER) private readonly vision: VisionProvider,
    @Inject(IMAGE_STORE) private readonly images: ImageStore,
    config: ConfigService<AppConfig, true>,
  ) {
    this.cacheTtlMs = config.get('limits.analysisCacheTtlMs', { infer: true });
    this.dailyLimit = config.get('limits.aiDailyPerUser', { infer: true });
  }

  /** `POST /v1/analyses` */
  async create(user: AuthenticatedUser, upload: ImageUpload, input: CreateAnalysisInput): Promise<AnalysisView> {
    const metadata = this.metadataOf(input.metadata);
    const { sha256, value, cached } = await this.answer(user.id, upload, input.prompt);

    const analysis = await this.analyses.insert({
      userId: user.id,
      sha256,
      prompt: input.prompt ?? null,
      metadata,
      provider: value.provider,
      model: value.model,
      result: value.result,
      imageFormat: value.image.format,
      imageWidth: value.image.width,
      imageHeight: value.image.height,
      imageBytes: value.image.bytes,
      // A cached answer made no upstream call: this request cost nothing.
      ...(cached ? ZERO_USAGE : value.usage),
      cached,
    });
    this.logger.log({
      msg: 'analysis created',
      analysisId: analysis.id,
      sha256,
      cached,
      provider: value.provider,
      model: value.model,
      inputTokens: analysis.inputTokens,
      outputTokens: analysis.outputTokens,
      costUsd: analysis.costUsd,
    });
    return toView(analysis);
  }

  /** `GET /v1/analyses` */
  async list(user: AuthenticatedUser, limit: number, cursor: string | undefined): Promise<AnalysisPage> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    if (cursor !== undefined && !after) {
      throw new ValidationFailedException([{ field: 'cursor', message: 'cursor is not a nextCursor of this API' }]);
    }
    const rows = await this.analyses.listByUser(user.id, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toView),
      nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
    };
  }

  /** `GET /v1/analyses/:id` */
  async get(user: AuthenticatedUser, id: string): Promise<AnalysisView> {
    return toView(await this.findOwned(user, id));
  }

  /** `GET /v1/analyses/:id/image` */
  async image(user: AuthenticatedUser, id: string): Promise<StreamableFile> {
    const analysis = await this.findOwned(user, id);
    const stored = await this.images.get({ sha256: analysis.sha256, format: analysis.imageFormat });
    if (!stored) {
      this.logger.warn({ msg: 'stored image missing', analysisId: id, sha256: analysis.sha256 });
      throw new NotFoundException('The image of this analysis is no longer stored.');
    }
    const extension = analysis.imageFormat === 'jpeg' ? 'jpg' : analysis.imageFormat;
    const file = new StreamableFile(stored.stream, {
      type: stored.contentType,
      length: stored.size,
      disposition: `inline; filename="${analysis.id}.${extension}"`,
    });
    return file.setErrorHandler((error, res) => {
      this.logger.error({ msg: 'stored image stream failed', analysisId: id, err: error });
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  }

  /** `DELETE /v1/analyses/:id`: the row, and the stored image once no analysis (of anyone) uses it. */
  async remove(user: AuthenticatedUser, id: string): Promise<void> {
    const analysis = await this.analyses.deleteOwned(user.id, id);
    if (!analysis) throw notFound();
    const imageRemoved = !(await this.analyses.isImageInUse(analysis.sha256));
    if (imageRemoved) await this.images.delete({ sha256: analysis.sha256, format: analysis.imageFormat });
    this.logger.log({ msg: 'analysis deleted', analysisId: id, sha256: analysis.sha256, imageRemoved });
  }

  /** The analysis of this upload, with its image stored; the upload's bytes are released in any case. */
  private async answer(
    userId: string,
    upload: ImageUpload,
    prompt: string | undefined,
  ): Promise<SingleFlightResult<CachedAnalysis> & { sha256: string }> {
    try {
      const sha256 = createHash('sha256').update(upload.bytes).digest('hex');
      const { value, cached } = await this.analyse(userId, sha256, upload, prompt);
      if (cached) await this.ensureImageStored({ sha256, format: value.image.format }, upload);
      return { sha256, value, cached };
    } finally {
      upload.release();
    }
  }

  /**
   * The answer for this upload and prompt: from cache, from a concurrent identical request's call,
   * or from a new one. The single-flight leader's own quota pays for the call; a follower that
   * shared a leader refused for *its* quota tries once more on its own account.
   */
  private async analyse(
    userId: string,
    sha256: string,
    upload: ImageUpload,
    prompt: string | undefined,
  ): Promise<SingleFlightResult<CachedAnalysis>> {
    const key = analysisCacheKey({ sha256, prompt, provider: this.vision.name, model: this.vision.model });
    for (let attempt = 1; ; attempt++) {
      let ranHere = false;
      try {
        return await this.cache.singleFlight(
          key,
          this.cacheTtlMs,
          () => {
            ranHere = true;
            return this.analyseUpload(userId, sha256, upload, prompt);
          },
          ANALYSIS_CACHE_NAME,
        );
      } catch (error) {
        if (error instanceof DailyQuotaExceededError && !ranHere && attempt === 1) continue;
        throw error;
      }
    }
  }

  /** The one upstream call for this key: normalise, spend quota, ask the provider, store the image. */
  private async analyseUpload(
    userId: string,
    sha256: string,
    upload: ImageUpload,
    prompt: string | undefined,
  ): Promise<CachedAnalysis> {
    const image = await this.processor.normalise(upload.bytes);
    // The leader never needs the upload again (its answer is not cached): free it before the call.
    upload.release();
    return this.chargingQuota(userId, async () => {
      const answer = await this.vision.analyse({ image, prompt });
      // Stored after the provider answered: a failed analysis leaves no image behind.
      await this.images.put({ sha256, format: image.format }, image.data);
      return {
        provider: this.vision.name,
        model: this.vision.model,
        result: answer.result,
        usage: answer.usage,
        image: { format: image.format, width: image.width, height: image.height, bytes: image.bytes },
      };
    });
  }

  /** Runs `work` against the user's daily quota when the provider is metered; refunds it if `work` fails. */
  private async chargingQuota<T>(userId: string, work: () => Promise<T>): Promise<T> {
    if (!this.vision.metered) return work();
    const consumedAt = new Date();
    if (!(await this.quota.tryConsume(userId, consumedAt))) {
      this.logger.log({ msg: 'daily ai quota exhausted', userId, dailyLimit: this.dailyLimit });
      throw new DailyQuotaExceededError(this.dailyLimit, this.quota.secondsUntilReset(consumedAt));
    }
    try {
      return await work();
    } catch (error) {
      await this.quota.refund(userId, consumedAt).catch((refundError: unknown) => {
        this.logger.error({ msg: 'quota refund failed', userId, err: refundError });
      });
      throw error;
    }
  }

  /**
   * A cached answer's image is normally stored already; it is not when every analysis using it was
   * deleted while the answer stayed cached. The upload is then normalised again (no AI call).
   */
  private async ensureImageStored(ref: StoredImageRef, upload: ImageUpload): Promise<void> {
    if (await this.images.exists(ref)) return;
    const image = await this.processor.normalise(upload.bytes);
    await this.images.put({ sha256: ref.sha256, format: image.format }, image.data);
    this.logger.log({ msg: 'stored image restored for a cached answer', sha256: ref.sha256 });
  }

  private async findOwned(user: AuthenticatedUser, id: string): Promise<Analysis> {
    const analysis = await this.analyses.findOwned(user.id, id);
    if (!analysis) throw notFound();
    return analysis;
  }

  private metadataOf(raw: string | undefined): AnalysisMetadata {
    if (raw === undefined) return {};
    const parsed = parseAnalysisMetadata(raw);
    if (!parsed.ok) throw new ValidationFailedException(parsed.problems.map((message) => ({ field: 'metadata', message })));
    return parsed.value;
  }
}

function notFound(): NotFoundException {
  return new NotFoundException('No analysis with this id.');
}

function toView(analysis: Analysis): AnalysisView {
  return {
    id: analysis.id,
    sha256: analysis.sha256,
    cached: analysis.cached,
    provider: analysis.provider,
    model: analysis.model,
    prompt: analysis.prompt,
    result: analysis.result,
    image: {
      format: analysis.imageFormat,
      width: analysis.imageWidth,
      height: analysis.imageHeight,
      bytes: analysis.imageBytes,
    },
    metadata: analysis.metadata,
    usage: { inputTokens: analysis.inputTokens, outputTokens: analysis.outputTokens, costUsd: analysis.costUsd },
    createdAt: analysis.createdAt.toISOString(),
  };
}
