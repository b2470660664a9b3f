import { Inject, Injectable, Logger, NotFoundException, StreamableFile } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AuthenticatedUser } from '../auth/auth.types';
import { AppError } from '../common/errors/app-error';
import { ShutdownState } from '../common/lifecycle/shutdown-state';
import { ValidationFailedException } from '../common/errors/validation.exception';
import { AppConfig } from '../config/config.types';
import { JobEvents } from '../jobs/job-events';
import { QuotaService } from '../quota/quota.service';
import { RateLimiter } from '../rate-limit/rate-limiter.service';
import { IMAGE_STORE, ImageStore } from '../storage/image-store';
import { decodeCursor, encodeCursor } from '../common/pagination/keyset-cursor';
import { AnalysisIntake, AnalysisRequest } from './analysis-intake';
import { parseAnalysisMetadata } from './analysis-metadata';
import { ANALYSIS_QUEUE } from './analysis-outcomes';
import { locationOf, toView } from './analysis-view';
import { errorOf, problemOf } from './analysis.errors';
import {
  AnalysisMetadata,
  AnalysisPage,
  AnalysisProblem,
  AnalysisStatus,
  AnalysisView,
  isTerminal,
} from './analysis.types';
import { Analysis } from './entities/analysis.entity';
import { appliedPreferences, parsePrefer } from './prefer';
import { AnalysesRepository } from './repositories/analyses.repository';
import { ImageUpload } from './upload/image-upload';
import type { BatchFile } from './upload/batch-upload';

export interface CreateAnalysisInput {
  /** Trimmed; undefined when none was given. */
  prompt?: string;
  /** The `metadata` field as sent (validated by the DTO). */
  metadata?: string;
}

/** An analysis and how to answer with it: the status code and the headers beside the body. */
export interface AnalysisReply {
  status: 200 | 201 | 202;
  analysis: AnalysisView;
  headers: Record<string, string>;
}

export type BatchItem =
  { index: number; id: string; status: AnalysisStatus } | { index: number; error: AnalysisProblem };

export interface BatchReply {
  items: BatchItem[];
}

/**
 * Image analyses (docs/api.md, Image analysis) as the API serves them. Every analysis is a job: an upload is
 * accepted (AnalysisIntake) and a worker answers it (AnalysisWorker); a request that waits for
 * the answer only reads the job's row when told it finished (JobEvents), and answers 202 with the
 * job's Location when its wait runs out or the process begins shutting down — the job goes on.
 */
@Injectable()
export class AnalysesService {
  private readonly logger = new Logger(AnalysesService.name);
  private readonly syncWaitS: number;

  constructor(
    private readonly analyses: AnalysesRepository,
    private readonly intake: AnalysisIntake,
    private readonly events: JobEvents,
    private readonly quota: QuotaService,
    private readonly limiter: RateLimiter,
    private readonly shutdown: ShutdownState,
    @Inject(IMAGE_STORE) private readonly images: ImageStore,
    config: ConfigService<AppConfig, true>,
  ) {
    this.syncWaitS = config.get('analysis.syncWaitS', { infer: true });
  }

  /**
   * `POST /v1/analyses`: 201 when answered (from cache at once, or by the job within the wait),
   * the job's problem when it failed within the wait, 202 otherwise (`Prefer: respond-async`, the
   * wait ran out, shutdown).
   */
  async create(
    user: AuthenticatedUser,
    upload: ImageUpload,
    input: CreateAnalysisInput,
    prefer: string | string[] | undefined,
  ): Promise<AnalysisReply> {
    const request = this.requestOf(user, input, upload);
    const accepted = await this.intake.accept(upload, request);
    const preferences = parsePrefer(prefer);
    if (accepted.status === 'succeeded') return reply(201, accepted);
    if (preferences.respondAsync) return reply(202, accepted, appliedPreferences(true, undefined));

    const finished = await this.waitForJob(accepted.id, preferences.waitS ?? this.syncWaitS);
    if (finished?.status === 'succeeded') return reply(201, finished);
    if (finished?.status === 'failed' && finished.error) throw errorOf(finished.error);
    const current = (await this.analyses.findById(accepted.id)) ?? accepted;
    return reply(202, current, appliedPreferences(false, preferences.waitS));
  }

  /**
   * `POST /v1/analyses/batch`: every file accepted or refused on its own (202 with one item per
   * file, in order); the per-user analysis limit counts each file.
   */
  async createBatch(user: AuthenticatedUser, files: BatchFile[], input: CreateAnalysisInput): Promise<BatchReply> {
    const metadata = this.metadataOf(input.metadata);
    try {
      // The limit's guard counted the request as one analysis; the other files count here.
      await this.limiter.countExtra(
        'analysis',
        user.id,
        files.length - 1,
        `This batch needs ${files.length} of your analyses per minute; retry after the time in Retry-After or send fewer files.`,
      );
    } catch (error) {
      for (const file of files) file.upload?.release();
      throw error;
    }
    const request: AnalysisRequest = { userId: user.id, prompt: input.prompt, metadata };
    const items = await Promise.all(files.map((file, index) => this.acceptBatchFile(index, file, request)));
    this.logger.log({
      msg: 'analysis batch accepted',
      files: files.length,
      refused: items.filter((item) => 'error' in item).length,
    });
    return { items };
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

  /** `GET /v1/analyses/:id`; with `Prefer: wait=N`, answers when the job finishes or N seconds pass (long-poll). */
  async get(user: AuthenticatedUser, id: string, prefer: string | string[] | undefined): Promise<AnalysisReply> {
    const analysis = await this.findOwned(user, id);
    const { waitS } = parsePrefer(prefer);
    if (waitS === undefined || isTerminal(analysis.status)) return reply(200, analysis);
    const finished = await this.waitForJob(id, waitS);
    const current = finished ?? (await this.findOwned(user, id));
    return reply(200, current, appliedPreferences(false, waitS));
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

  /**
   * `DELETE /v1/analyses/:id`: the row, and the stored image once no analysis (of anyone) uses it.
   * An unfinished job's reserved quota unit is given back (a worker holding it can no longer end it).
   */
  async remove(user: AuthenticatedUser, id: string): Promise<void> {
    const deleted = await this.analyses.deleteOwned(user.id, id, (analysis) =>
      this.images.delete({ sha256: analysis.sha256, format: analysis.imageFormat }),
    );
    if (!deleted) throw notFound();
    const { analysis, imageRemoved } = deleted;
    const refunded = isTerminal(analysis.status) ? false : await this.quota.refundReservation(id);
    this.logger.log({
      msg: 'analysis deleted',
      analysisId: id,
      sha256: analysis.sha256,
      status: analysis.status,
      imageRemoved,
      refunded,
    });
  }

  private async acceptBatchFile(index: number, file: BatchFile, request: AnalysisRequest): Promise<BatchItem> {
    if (!file.upload) return { index, error: problemOf(file.error) };
    try {
      const analysis = await this.intake.accept(file.upload, request);
      return { index, id: analysis.id, status: analysis.status };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const { type, title, status, detail } = problemOf(error);
      return { index, error: { type, title, status, detail } };
    }
  }

  /** The job once finished within `waitS`; undefined when the wait ran out or shutdown began. */
  private waitForJob(id: string, waitS: number): Promise<Analysis | undefined> {
    return this.events.wait(
      ANALYSIS_QUEUE,
      id,
      () => this.analyses.findFinished(id),
      waitS * 1000,
      this.shutdown.signal,
    );
  }

  private requestOf(user: AuthenticatedUser, input: CreateAnalysisInput, upload: ImageUpload): AnalysisRequest {
    try {
      return { userId: user.id, prompt: input.prompt, metadata: this.metadataOf(input.metadata) };
    } catch (error) {
      upload.release();
      throw error;
    }
  }

  private async findOwned(user: AuthenticatedUser, id: string): Promise<Analysis> {
    const analysis = await this.analyses.findOwned(user.id, id);
    if (!analysis) throw notFound();
    return analysis;
  }

  private metadataOf(raw: string | undefined): AnalysisMetadata {
    if (raw === undefined) return {};
    const parsed = parseAnalysisMetadata(raw);
    if (!parsed.ok)
      throw new ValidationFailedException(parsed.problems.map((message) => ({ field: 'metadata', message })));
    return parsed.value;
  }
}

function reply(status: AnalysisReply['status'], analysis: Analysis, preferenceApplied?: string): AnalysisReply {
  const headers: Record<string, string> = status === 200 ? {} : { Location: locationOf(analysis) };
  if (preferenceApplied) headers['Preference-Applied'] = preferenceApplied;
  return { status, analysis: toView(analysis), headers };
}

function notFound(): NotFoundException {
  return new NotFoundException('No analysis with this id.');
}
