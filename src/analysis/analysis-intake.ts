import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHash } from 'node:crypto';
import { RequestContext } from '../common/context/request-context';
import { AppConfig } from '../config/config.types';
import type { AtomicWork } from '../database/atomic';
import { JOB_RUNNER, JobRunner } from '../jobs/job-queue';
import { QuotaExhausted, QuotaService } from '../quota/quota.service';
import { IMAGE_STORE, ImageStore, StoredImageRef } from '../storage/image-store';
import { AnalysisAnswers, AnswerKeys, CachedAnalysis } from './analysis-answers';
import { ANALYSIS_QUEUE, AnalysisOutcomes } from './analysis-outcomes';
import { DailyQuotaExceededError } from './analysis.errors';
import { AnalysisMetadata, ZERO_USAGE } from './analysis.types';
import { Analysis } from './entities/analysis.entity';
import { ImageProcessor, NormalisedImage } from './image-processor';
import { VISION_PROVIDER, VisionProvider } from './providers/vision-provider';
import { AnalysesRepository } from './repositories/analyses.repository';
import { ImageUpload } from './upload/image-upload';

export interface AnalysisRequest {
  userId: string;
  /** Trimmed; undefined when none was given. */
  prompt?: string;
  metadata: AnalysisMetadata;
}

/**
 * Accepts one upload as an analysis (CONTRACT §3). A question already answered (Redis, then the
 * analyses table) is answered at once: a `succeeded` row, `cached`, free. Otherwise the upload is
 * validated and normalised, its image stored, and — in one transaction — a quota unit reserved
 * and the row written `queued`; then the job's doorbell is rung. The row is the truth: a doorbell
 * lost in a crash is rung again by the reconciler.
 *
 * Rows are written under the image's lock (see AnalysesRepository.withImageLock), and the image is
 * stored again after the row exists when it went missing: a delete of another analysis of the same
 * bytes decides "image unused" under the same lock, so it either sees this row or finishes before
 * this row is written, and the upload keeps its image.
 */
@Injectable()
export class AnalysisIntake {
  private readonly logger = new Logger(AnalysisIntake.name);
  private readonly dailyLimit: number;

  constructor(
    private readonly analyses: AnalysesRepository,
    private readonly answers: AnalysisAnswers,
    private readonly processor: ImageProcessor,
    private readonly quota: QuotaService,
    private readonly outcomes: AnalysisOutcomes,
    @Inject(JOB_RUNNER) private readonly runner: JobRunner,
    @Inject(VISION_PROVIDER) private readonly vision: VisionProvider,
    @Inject(IMAGE_STORE) private readonly images: ImageStore,
    config: ConfigService<AppConfig, true>,
  ) {
    this.dailyLimit = config.get('limits.aiDailyPerUser', { infer: true });
  }

  /** The accepted analysis: `succeeded` when answered from the cache, `queued` otherwise. The upload is released. */
  async accept(upload: ImageUpload, request: AnalysisRequest): Promise<Analysis> {
    try {
      const sha256 = createHash('sha256').update(upload.bytes).digest('hex');
      const keys = this.answers.keysFor(sha256, request.prompt, request.userId);
      const answer = await this.answers.find(keys);
      return answer
        ? await this.acceptAnswered(upload, request, sha256, keys, answer)
        : await this.acceptJob(upload, request, sha256, keys);
    } finally {
      upload.release();
    }
  }

  private async acceptAnswered(
    upload: ImageUpload,
    request: AnalysisRequest,
    sha256: string,
    keys: AnswerKeys,
    answer: CachedAnalysis,
  ): Promise<Analysis> {
    const ref: StoredImageRef = { sha256, format: answer.image.format };
    // Normally stored already; not when every analysis using it was deleted while the answer stayed cached.
    const normalised = (await this.images.exists(ref)) ? undefined : await this.normaliseAndStore(upload, sha256);
    const now = new Date();
    const analysis = this.analyses.create({
      ...this.newRow(request, sha256, keys),
      status: 'succeeded',
      provider: answer.provider,
      model: answer.model,
      result: answer.result,
      cached: true,
      completedAt: now,
      imageFormat: answer.image.format,
      imageWidth: answer.image.width,
      imageHeight: answer.image.height,
      imageBytes: answer.image.bytes,
    });
    await this.analyses.withImageLock(sha256, () => this.analyses.insertSteps(analysis));
    await this.keepImage(ref, async () => (normalised ?? (await this.processor.normalise(upload.bytes))).data);
    await this.outcomes.succeeded(analysis, false);
    return analysis;
  }

  private async acceptJob(
    upload: ImageUpload,
    request: AnalysisRequest,
    sha256: string,
    keys: AnswerKeys,
  ): Promise<Analysis> {
    const metered = this.vision.metered;
    // Refuse before the image work when the quota is surely spent (nothing identical is in flight).
    if (
      metered &&
      !(await this.hasQuotaLeft(request.userId)) &&
      !(await this.analyses.hasUnfinished(keys.cacheKey, keys.scopeUserId))
    ) {
      throw this.quotaExceeded(request.userId);
    }
    const image = await this.normaliseAndStore(upload, sha256);
    const ref: StoredImageRef = { sha256, format: image.format };
    const analysis = this.analyses.create({
      ...this.newRow(request, sha256, keys),
      status: 'queued',
      provider: this.vision.name,
      model: this.vision.model,
      result: null,
      cached: false,
      completedAt: null,
      imageFormat: image.format,
      imageWidth: image.width,
      imageHeight: image.height,
      imageBytes: image.bytes,
    });
    const reserved = await this.insertJob(analysis, metered, keys);
    await this.keepImage(ref, () => Promise.resolve(image.data));
    this.logger.log({
      msg: 'analysis accepted',
      analysisId: analysis.id,
      requestId: analysis.requestId,
      status: analysis.status,
      sha256,
      quotaReserved: reserved,
    });
    await this.runner.enqueue(ANALYSIS_QUEUE, analysis.id);
    return analysis;
  }

  /**
   * Writes the queued row with its quota unit reserved, in one transaction. Without a unit left,
   * the upload may still ride along with an identical job in flight (it reserves only if it has to
   * ask the model itself); otherwise 429 and the image stored for it is removed unless used.
   */
  private async insertJob(analysis: Analysis, metered: boolean, keys: AnswerKeys): Promise<boolean> {
    if (!metered) {
      await this.analyses.withImageLock(analysis.sha256, () => this.analyses.insertSteps(analysis));
      return false;
    }
    try {
      await this.analyses.withImageLock(analysis.sha256, () => this.reserveAndInsert(analysis));
      return true;
    } catch (error) {
      if (!(error instanceof QuotaExhausted)) throw error;
    }
    if (await this.analyses.hasUnfinished(keys.cacheKey, keys.scopeUserId)) {
      await this.analyses.withImageLock(analysis.sha256, () => this.analyses.insertSteps(analysis));
      return false;
    }
    await this.analyses.releaseImage(analysis.sha256, () =>
      this.images.delete({ sha256: analysis.sha256, format: analysis.imageFormat }),
    );
    throw this.quotaExceeded(analysis.userId);
  }

  private *reserveAndInsert(analysis: Analysis): AtomicWork<void> {
    yield* this.quota.reserveSteps(analysis.id, analysis.userId, analysis.createdAt);
    yield* this.analyses.insertSteps(analysis);
  }

  private async normaliseAndStore(upload: ImageUpload, sha256: string): Promise<NormalisedImage> {
    const image = await this.processor.normalise(upload.bytes);
    await this.images.put({ sha256, format: image.format }, image.data);
    return image;
  }

  /** After the row is written: stores the image again if a racing delete removed it before (see the class note). */
  private async keepImage(ref: StoredImageRef, data: () => Promise<Buffer>): Promise<void> {
    if (await this.images.exists(ref)) return;
    await this.images.put(ref, await data());
    this.logger.log({ msg: 'stored image restored for a new analysis', sha256: ref.sha256 });
  }

  private async hasQuotaLeft(userId: string): Promise<boolean> {
    const { analysesToday, dailyLimit } = await this.quota.usageToday(userId);
    return analysesToday < dailyLimit;
  }

  private quotaExceeded(userId: string): DailyQuotaExceededError {
    this.logger.log({ msg: 'daily ai quota exhausted', userId, dailyLimit: this.dailyLimit });
    return new DailyQuotaExceededError(this.dailyLimit, this.quota.secondsUntilReset(new Date()));
  }

  /** The fields every new row starts with. */
  private newRow(request: AnalysisRequest, sha256: string, keys: AnswerKeys) {
    return {
      userId: request.userId,
      sha256,
      prompt: request.prompt ?? null,
      metadata: request.metadata,
      attempts: 0,
      leaseUntil: null,
      workerId: null,
      requestId: RequestContext.requestId() ?? null,
      cacheKey: keys.cacheKey,
      error: null,
      ...ZERO_USAGE,
    };
  }
}
