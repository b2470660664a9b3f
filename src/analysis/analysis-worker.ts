import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { buffer } from 'node:stream/consumers';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { RequestContext } from '../common/context/request-context';
import type { AtomicWork } from '../database/atomic';
import { JOB_RUNNER, JobQueue, JobRunner } from '../jobs/job-queue';
import { QuotaService } from '../quota/quota.service';
import { contentTypeOf, IMAGE_STORE, ImageStore } from '../storage/image-store';
import { AnalysisAnswers, AnswerKeys, CachedAnalysis } from './analysis-answers';
import { ANALYSIS_QUEUE, AnalysisOutcomes } from './analysis-outcomes';
import { AnalysisAbandonedError, DailyQuotaExceededError, problemOf } from './analysis.errors';
import { StoredAnalysisProblem, ZERO_USAGE } from './analysis.types';
import { Analysis } from './entities/analysis.entity';
import { ModerationService } from './moderation/moderation.service';
import type { ImageFingerprint } from './near-duplicate/image-fingerprint';
import { VISION_PROVIDER, VisionImage, VisionProvider } from './providers/vision-provider';
import { AnalysesRepository, AnalysisAnswer } from './repositories/analyses.repository';

/** Claims of one job beyond which it is failed instead of tried again (crashes, lost leases, outages). */
export const MAX_JOB_ATTEMPTS = 5;

/**
 * The analysis job (docs/api.md, Image analysis): answer one accepted upload and end its row `succeeded` or
 * `failed`. Deliveries are at least once; the effects are exactly once:
 * - the answer is looked up again first (Redis, then the table: the same bytes, then a
 *   near-identical image by perceptual hash), and concurrent identical jobs
 *   share one upstream call through the single-flight lock, so a second delivery after a crash
 *   finds the work done instead of asking the model again;
 * - the row ends by compare-and-set (`running`, held by this worker), in one transaction with the
 *   quota's move: charged when this job's own call produced the answer, refunded when the answer
 *   came from elsewhere or the job failed — each at most once, keyed by the analysis id;
 * - a job that loses its lease, or is handed back at shutdown, changes nothing more.
 * A failure of the job's own (provider, quota, image) fails it; anything else (database, Redis, a
 * bug) hands it back to be tried again, up to MAX_JOB_ATTEMPTS claims.
 * Every answer this job makes is moderated (after the provider, whatever the provider) inside the
 * single-flight, so the moderation is cached and copied with the answer; a moderation failure
 * fails the job like a provider failure.
 */
@Injectable()
export class AnalysisWorker implements JobQueue<Analysis>, OnModuleInit {
  readonly name = ANALYSIS_QUEUE;
  private readonly logger = new Logger(AnalysisWorker.name);

  constructor(
    readonly store: AnalysesRepository,
    private readonly answers: AnalysisAnswers,
    private readonly quota: QuotaService,
    private readonly outcomes: AnalysisOutcomes,
    private readonly moderation: ModerationService,
    @Inject(JOB_RUNNER) private readonly runner: JobRunner,
    @Inject(VISION_PROVIDER) private readonly vision: VisionProvider,
    @Inject(IMAGE_STORE) private readonly images: ImageStore,
  ) {}

  onModuleInit(): void {
    this.runner.register(this);
  }

  /** The request that created the job: its id is on the job's log lines and outbound calls. */
  requestIdOf(job: Analysis): string | undefined {
    return job.requestId ?? undefined;
  }

  async perform(job: Analysis, signal: AbortSignal): Promise<void> {
    RequestContext.setUserId(job.userId);
    this.logger.log({ msg: 'analysis running', analysisId: job.id, attempt: job.attempts, workerId: job.workerId });
    if (job.attempts > MAX_JOB_ATTEMPTS) return this.fail(job, new AnalysisAbandonedError(job.attempts - 1));
    const keys = this.answers.keysFor(job.sha256, job.prompt, job.userId, fingerprintOf(job));
    let answer: CachedAnalysis;
    try {
      answer = (await this.answers.find(keys)) ?? (await this.compute(job, keys, signal));
    } catch (error) {
      if (signal.aborted || !(error instanceof AppError)) throw error;
      return this.fail(job, error);
    }
    await this.succeed(job, keys, answer);
  }

  /**
   * The answer through the single-flight: this job's own call, or the one a concurrent identical
   * job makes. A job that shared a call refused for the other job's quota tries once on its own.
   */
  private async compute(job: Analysis, keys: AnswerKeys, signal: AbortSignal): Promise<CachedAnalysis> {
    for (let attempt = 1; ; attempt++) {
      let ranHere = false;
      try {
        const { value } = await this.answers.share(keys, () => {
          ranHere = true;
          return this.ask(job, keys, signal);
        });
        return value;
      } catch (error) {
        if (error instanceof DailyQuotaExceededError && !ranHere && attempt === 1) continue;
        throw error;
      }
    }
  }

  /** The one upstream call for this question (single-flight leader). */
  private async ask(job: Analysis, keys: AnswerKeys, signal: AbortSignal): Promise<CachedAnalysis> {
    // Another replica may have answered between the look-up and the lock, and failed to cache it.
    const stored = await this.answers.findStored(keys);
    if (stored) return stored;
    // Normally reserved at acceptance; a job accepted beside an identical one reserves only now.
    if (this.vision.metered && !(await this.quota.reserve(job.id, job.userId))) {
      const dailyLimit = await this.quota.dailyLimitOf(job.userId);
      this.logger.log({ msg: 'daily ai quota exhausted', analysisId: job.id, dailyLimit });
      throw new DailyQuotaExceededError(dailyLimit, this.quota.secondsUntilReset(new Date()));
    }
    const image = await this.storedImage(job);
    const answer = await untilAborted(this.vision.analyse({ image, prompt: job.prompt ?? undefined }), signal);
    const moderation = await untilAborted(this.moderation.moderate(image), signal);
    return {
      provider: this.vision.name,
      model: this.vision.model,
      result: answer.result,
      usage: answer.usage,
      image: { format: job.imageFormat, width: job.imageWidth, height: job.imageHeight, bytes: job.imageBytes },
      producedBy: job.id,
      moderation,
    };
  }

  private async storedImage(job: Analysis): Promise<VisionImage> {
    const stored = await this.images.get({ sha256: job.sha256, format: job.imageFormat });
    if (!stored) throw new AppError(ErrorCode.JobFailed, 'The uploaded image is no longer stored; upload it again.');
    return { data: await buffer(stored.stream), contentType: contentTypeOf(job.imageFormat) };
  }

  private async succeed(job: Analysis, keys: AnswerKeys, answer: CachedAnalysis): Promise<void> {
    const own = answer.producedBy === job.id;
    const fields: AnalysisAnswer = {
      provider: answer.provider,
      model: answer.model,
      cacheKey: keys.cacheKey,
      result: answer.result,
      // An answer this job did not pay for costs it nothing.
      usage: own ? answer.usage : { ...ZERO_USAGE },
      cached: !own,
      cacheKind: own ? null : answer.near ? 'near' : 'exact',
      moderation: answer.moderation ?? null,
    };
    const at = new Date();
    const done = await this.store.transact(() => this.succeedSteps(job, fields, own, at));
    if (!done) return this.lostLease(job);
    await this.outcomes.succeeded(
      Object.assign(job, fields, fields.usage, { status: 'succeeded', error: null, completedAt: at, leaseUntil: null }),
    );
  }

  private *succeedSteps(job: Analysis, fields: AnalysisAnswer, own: boolean, at: Date): AtomicWork<boolean> {
    const done = yield* this.store.succeedSteps(job.id, job.workerId ?? '', fields, at);
    if (this.vision.metered) {
      // The call was made for this job whether or not it still holds it: charged either way.
      if (own) yield* this.quota.chargeSteps(job.id);
      else if (done) yield* this.quota.refundSteps(job.id);
    }
    return done;
  }

  private async fail(job: Analysis, error: AppError): Promise<void> {
    const problem = problemOf(error);
    const at = new Date();
    const done = await this.store.transact(() => this.failSteps(job, problem, at));
    if (!done) return this.lostLease(job);
    await this.outcomes.failed(
      Object.assign(job, { status: 'failed', error: problem, completedAt: at, leaseUntil: null }),
      error,
    );
  }

  private *failSteps(job: Analysis, problem: StoredAnalysisProblem, at: Date): AtomicWork<boolean> {
    const done = yield* this.store.failSteps(job.id, job.workerId ?? '', problem, at);
    // A failed job costs no quota.
    if (done && this.vision.metered) yield* this.quota.refundSteps(job.id);
    return done;
  }

  private lostLease(job: Analysis): void {
    this.logger.warn({ msg: 'analysis no longer held by this worker; left to its holder', analysisId: job.id });
  }
}

/** Rejects as soon as `signal` aborts (the job was handed back): the call's answer is no longer wanted. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('job handed back'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('job handed back'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The job's stored near-duplicate fingerprint; null on rows written before it existed. */
function fingerprintOf({ phash, colourLayout }: Analysis): ImageFingerprint | null {
  return phash && colourLayout ? { phash, colourLayout } : null;
}
