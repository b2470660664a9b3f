import { Injectable, Logger } from '@nestjs/common';
import * as Sentry from '@sentry/node';
import type { AppError } from '../common/errors/app-error';
import { JobEvents } from '../jobs/job-events';
import { MetricsService } from '../metrics/metrics.service';
import { WebhookEvents } from '../webhooks/webhook-events.service';
import { toView } from './analysis-view';
import type { Analysis } from './entities/analysis.entity';

/** The queue of analysis jobs: BullMQ's queue name and the `queue` label of the job metrics. */
export const ANALYSIS_QUEUE = 'analyses';

/**
 * What follows an analysis reaching `succeeded` or `failed`, once (the caller has won the
 * compare-and-set): waiting requests are told, the job metrics and the log line written, the
 * user's webhooks queued (deduplicated by analysis id, so a job finished twice after a crash
 * delivers once), and a failure reported to Sentry — once per failed job, not per attempt.
 */
@Injectable()
export class AnalysisOutcomes {
  private readonly logger = new Logger(AnalysisOutcomes.name);

  constructor(
    private readonly events: JobEvents,
    private readonly metrics: MetricsService,
    private readonly webhooks: WebhookEvents,
  ) {}

  /**
   * A job succeeded. `asJob: false` for an upload answered from the cache when it was accepted:
   * it never became a job, so it counts in no job metric.
   */
  async succeeded(analysis: Analysis, asJob = true): Promise<void> {
    if (asJob) this.metrics.recordJob(ANALYSIS_QUEUE, 'succeeded', secondsToFinish(analysis));
    this.logger.log({
      msg: asJob ? 'analysis succeeded' : 'analysis answered from cache',
      analysisId: analysis.id,
      requestId: analysis.requestId,
      cached: analysis.cached,
      provider: analysis.provider,
      model: analysis.model,
      inputTokens: analysis.inputTokens,
      outputTokens: analysis.outputTokens,
      costUsd: analysis.costUsd,
    });
    await this.announce(analysis, 'analysis.succeeded');
  }

  async failed(analysis: Analysis, error: AppError): Promise<void> {
    this.metrics.recordJob(ANALYSIS_QUEUE, 'failed', secondsToFinish(analysis));
    this.logger.warn({
      msg: 'analysis failed',
      analysisId: analysis.id,
      requestId: analysis.requestId,
      problem: error.code,
      status: analysis.error?.status,
      err: error,
    });
    if ((analysis.error?.status ?? 500) >= 500) {
      Sentry.withScope((scope) => {
        if (analysis.requestId) scope.setTag('requestId', analysis.requestId);
        scope.setTag('problem', error.code);
        scope.setTag('analysisId', analysis.id);
        scope.setUser({ id: analysis.userId });
        Sentry.captureException(error);
      });
    }
    await this.announce(analysis, 'analysis.failed');
  }

  private async announce(analysis: Analysis, type: 'analysis.succeeded' | 'analysis.failed'): Promise<void> {
    await Promise.all([
      this.events.publish(ANALYSIS_QUEUE, analysis.id),
      this.webhooks.emit(analysis.userId, type, toView(analysis), `${type}:${analysis.id}`).catch((error: unknown) => {
        this.logger.error({ msg: 'webhook event not queued', analysisId: analysis.id, type, err: error });
      }),
    ]);
  }
}

function secondsToFinish(analysis: Analysis): number {
  return Math.max(0, ((analysis.completedAt ?? new Date()).getTime() - analysis.createdAt.getTime()) / 1000);
}
