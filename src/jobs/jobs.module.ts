import { Inject, Injectable, Logger, Module, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Params, PARAMS_PROVIDER_TOKEN } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { CommonModule } from '../common/common.module';
import { ShutdownState } from '../common/lifecycle/shutdown-state';
import { AppConfig } from '../config/config.types';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import { RedisModule } from '../redis/redis.module';
import { RedisService } from '../redis/redis.service';
import { BullMqJobRunner } from './bullmq.job-runner';
import { DatabaseJobRunner } from './database.job-runner';
import { JobEvents } from './job-events';
import { JobExecutor } from './job-executor';
import { JOB_RUNNER, ManagedJobRunner } from './job-queue';
import { RECONCILE_INTERVAL_MS } from './jobs.constants';

/** The app's root pino logger, as the app handed it to nestjs-pino (src/common/logging/logger-options.ts). */
function rootLoggerOf({ pinoHttp }: Params): PinoLogger | undefined {
  return pinoHttp && typeof pinoHttp === 'object' && 'logger' in pinoHttp ? (pinoHttp.logger as PinoLogger) : undefined;
}

/**
 * Drives the runner over the process's life: starts it once every room has registered its queues,
 * stops taking jobs when shutdown begins, lets running jobs finish (or hands them back) within the
 * grace, and samples the queue metrics.
 */
@Injectable()
class JobsLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Jobs');
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    @Inject(JOB_RUNNER) private readonly runner: ManagedJobRunner,
    private readonly executor: JobExecutor,
    private readonly shutdown: ShutdownState,
    private readonly metrics: MetricsService,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  onApplicationBootstrap(): void {
    const { role, aiConcurrency } = this.config.get('jobs', { infer: true });
    for (const queue of this.runner.queues) this.metrics.registerQueue(queue.name);
    this.runner.start();
    this.shutdown.signal.addEventListener('abort', () => void this.runner.stop(), { once: true });
    this.shutdown.onDrain((deadline) => this.executor.drain(deadline));
    this.sampler = setInterval(() => void this.sample(), RECONCILE_INTERVAL_MS);
    this.sampler.unref();
    void this.sample();
    this.logger.log({
      msg: 'job runner started',
      runner: this.runner.kind,
      role,
      aiConcurrency,
      workerId: this.executor.workerId,
    });
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.sampler);
    await this.runner.close();
  }

  private async sample(): Promise<void> {
    for (const queue of this.runner.queues) {
      try {
        const stats = await queue.store.stats(new Date());
        this.metrics.setQueueDepth(queue.name, { ...stats, delayed: 0 });
      } catch (error) {
        this.logger.debug({ msg: 'queue metrics not sampled', queue: queue.name, err: error });
      }
    }
  }
}

/**
 * Jobs (docs/api.md, Image analysis "Every analysis is a job"): a JobRunner — BullMQ when REDIS_URL is set, the
 * database otherwise — that rooms register their queues with, and JobEvents for requests that wait
 * for a job. ARGUS_ROLE decides whether this process takes jobs (`all`, `worker`) or only enqueues
 * them (`api`); AI_CONCURRENCY bounds the jobs it runs at once; JOB_LEASE_S is each job's lease.
 */
@Module({
  imports: [CommonModule, MetricsModule, RedisModule],
  providers: [
    {
      provide: JobExecutor,
      inject: [ConfigService, MetricsService, PARAMS_PROVIDER_TOKEN],
      useFactory: (config: ConfigService<AppConfig, true>, metrics: MetricsService, logging: Params) =>
        new JobExecutor(config.get('jobs.leaseMs', { infer: true }), metrics, rootLoggerOf(logging)),
    },
    {
      provide: JOB_RUNNER,
      inject: [ConfigService, RedisService, JobExecutor],
      useFactory: (
        config: ConfigService<AppConfig, true>,
        redis: RedisService,
        executor: JobExecutor,
      ): ManagedJobRunner => {
        const { role, aiConcurrency } = config.get('jobs', { infer: true });
        const runsJobs = role !== 'api';
        return redis.enabled
          ? new BullMqJobRunner(redis, executor, aiConcurrency, runsJobs)
          : new DatabaseJobRunner(executor, aiConcurrency, runsJobs);
      },
    },
    JobEvents,
    JobsLifecycle,
  ],
  exports: [JOB_RUNNER, JobEvents],
})
export class JobsModule {}
