import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { RequestContext } from '../common/context/request-context';
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
import { NearDuplicateIndex } from './near-duplicate/near-duplicate.index';
import { fingerprintOf, ImageFingerprint } from './near-duplicate/image-fingerprint';
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
 * Accepts one upload as an analysis (docs/api.md, Image analysis). A question already answered (Redis, then the
 * analyses table) is answered at once: a `succeeded` row, `cached`, free. Otherwise the upload is
 * validated and normalised, its image stored and its perceptual hash taken; a near-identical image
 * already answered answers it at once too (`cache: "near"`, docs/api.md "Near-duplicates").
 * Otherwise — in one transaction — a quota unit is reserved and the row written `queued` with its
 * hash; then the job's doorbell is rung. The row is the truth: a doorbell
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

  constructor(
    private readonly analyses: AnalysesRepository,
    private readonly answers: AnalysisAnswers,
    private readonly processor: ImageProcessor,
    private readonly quota: QuotaService,
    private readonly outcomes: AnalysisOutcomes,
    @Inject(JOB_RUNNER) private readonly runner: JobRunner,
    @Inject(VISION_PROVIDER) private readonly vision: VisionProvider,
    @Inject(IMAGE_STORE) private readonly images: ImageStore,
    private readonly nearDuplicates: NearDuplicateIndex,
  ) {}

  /** The accepted analysis: `succeeded` when answered from the cache, `queued` otherwise. The upload is released. */
  async accept(upload: ImageUpload, request: AnalysisRequest): Promise<Analysis> {
    try {
      const sha256 = createHash('sha256').update(upload.bytes).digest('hex');
      const keys = this.answers.keysFor(sha256, request.prompt, request.userId);
      const answer = await this.answers.find(keys);
      return answer
        ? await this.acceptAnswered(upload, request, sha256, keys, answer)
        : await this.acceptNew(upload, request, sha256, keys);
    } finally {
      upload.release();
    }
  }

  /** The same bytes were answered already: a `succeeded` row with that answer (and its moderation). */
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
    const fingerprint = normalised ? await fingerprintOf(normalised.data) : await this.analyses.findFingerprint(sha256);
    const analysis = this.answeredRow(request, sha256, keys, answer, 'exact', answer.image, fingerprint);
    await this.analyses.withImageLock(sha256, () => this.analyses.insertSteps(analysis));
    await this.keepImage(ref, async () => (normalised ?? (await this.processor.normalise(upload.bytes))).data);
    await this.outcomes.succeeded(analysis, false);
    return analysis;
  }

  /**
   * Bytes not seen before: normalised and stored, then answered from a near-identical image when
   * one was answered already (free, no job), or accepted as a job.
   */
  private async acceptNew(
    upload: ImageUpload,
    request: AnalysisRequest,
    sha256: string,
    keys: AnswerKeys,
  ): Promise<Analysis> {
    // Without near-duplicates, refuse before the image work when the quota is surely spent (nothing
    // identical is in flight); with them, a spent quota may still be answered from a near copy.
    if (!this.nearDuplicates.enabled && this.vision.metered && !(await this.mayAsk(request.userId, keys))) {
      throw await this.quotaExceeded(request.userId);
    }
    const image = await this.normaliseAndStore(upload, sha256);
    const fingerprint = await fingerprintOf(image.data);
    const withFingerprint: AnswerKeys = { ...keys, fingerprint };
    const near = await this.answers.findNear(withFingerprint);
    if (!near) return this.acceptJob(request, sha256, withFingerprint, image);
    const analysis = this.answeredRow(request, sha256, withFingerprint, near, 'near', image, fingerprint);
    await this.analyses.withImageLock(sha256, () => this.analyses.insertSteps(analysis));
    await this.keepImage({ sha256, format: image.format }, () => Promise.resolve(image.data));
    await this.outcomes.succeeded(analysis, false);
    return analysis;
  }

  /** A `succeeded`, cached row answered by `answer`, for an image described by `image`. */
  private answeredRow(
    request: AnalysisRequest,
    sha256: string,
    keys: AnswerKeys,
    answer: CachedAnalysis,
    cacheKind: 'exact' | 'near',
    image: CachedAnalysis['image'],
    fingerprint: ImageFingerprint | null,
  ): Analysis {
    return this.analyses.create({
      ...this.newRow(request, sha256, keys, fingerprint),
      status: 'succeeded',
      provider: answer.provider,
      model: answer.model,
      result: answer.result,
      cached: true,
      cacheKind,
      moderation: answer.moderation ?? null,
      completedAt: new Date(),
      imageFormat: image.format,
      imageWidth: image.width,
      imageHeight: image.height,
      imageBytes: image.bytes,
    });
  }

  private async acceptJob(
    request: AnalysisRequest,
    sha256: string,
    keys: AnswerKeys,
    image: NormalisedImage,
  ): Promise<Analysis> {
    const metered = this.vision.metered;
    const ref: StoredImageRef = { sha256, format: image.format };
    const analysis = this.analyses.create({
      ...this.newRow(request, sha256, keys, keys.fingerprint),
      status: 'queued',
      provider: this.vision.name,
      model: this.vision.model,
      result: null,
      cached: false,
      cacheKind: null,
      moderation: null,
      completedAt: null,
      imageFormat: image.format,
      imageWidth: image.width,
      imageHeight: image.height,
      imageBytes: image.bytes,
    });
    const reserved = await this.insertJob(analysis, metered, keys);
    // Logged as soon as the row exists, before any more I/O: a polling runner may claim the row from
    // then on, and its "analysis running" must not come first in the trail.
    this.logger.log({
      msg: 'analysis accepted',
      analysisId: analysis.id,
      requestId: analysis.requestId,
      status: analysis.status,
      sha256,
      quotaReserved: reserved,
    });
    await this.keepImage(ref, () => Promise.resolve(image.data));
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
    throw await this.quotaExceeded(analysis.userId);
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

  /** False when the user's quota is spent and no identical job is in flight to ride along with. */
  private async mayAsk(userId: string, keys: AnswerKeys): Promise<boolean> {
    const { analysesToday, dailyLimit } = await this.quota.usageToday(userId);
    return analysesToday < dailyLimit || (await this.analyses.hasUnfinished(keys.cacheKey, keys.scopeUserId));
  }

  /** The 429 names the limit enforced: the account's own when an admin set one. */
  private async quotaExceeded(userId: string): Promise<DailyQuotaExceededError> {
    const dailyLimit = await this.quota.dailyLimitOf(userId);
    this.logger.log({ msg: 'daily ai quota exhausted', userId, dailyLimit });
    return new DailyQuotaExceededError(dailyLimit, this.quota.secondsUntilReset(new Date()));
  }

  /** The fields every new row starts with. */
  private newRow(request: AnalysisRequest, sha256: string, keys: AnswerKeys, fingerprint: ImageFingerprint | null) {
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
      ...(fingerprint ? NearDuplicateIndex.columnsOf(fingerprint) : NO_FINGERPRINT),
      ...ZERO_USAGE,
    };
  }
}

/** The near-duplicate columns of a row whose image has no fingerprint. */
const NO_FINGERPRINT = {
  phash: null,
  phashB0: null,
  phashB1: null,
  phashB2: null,
  phashB3: null,
  colourLayout: null,
} as const;
