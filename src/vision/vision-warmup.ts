import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.types';
import { VisionService } from './vision.service';
import type { InspectOptions } from './vision.types';

/**
 * Loads the local models a job of this process will need when it starts (docs/architecture.md,
 * "Local vision models"), instead of on the first analysis: objects and OCR when AI_PROVIDER=local,
 * the NSFW classifier when MODERATION_PROVIDER=local — only in a process that runs jobs (ARGUS_ROLE
 * `all` or `worker`), and not under NODE_ENV=test (every e2e app would load them; the vision specs
 * load them on first use). Readiness does not wait: the load runs in the vision worker threads, and
 * an analysis that arrives meanwhile waits there for it.
 */
@Injectable()
export class VisionWarmup implements OnApplicationBootstrap {
  private readonly logger = new Logger(VisionWarmup.name);

  constructor(
    private readonly vision: VisionService,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  onApplicationBootstrap(): void {
    const models = this.modelsToLoad();
    if (!models) return;
    const started = performance.now();
    this.vision.warmUp(models).then(
      () => this.logger.log({ msg: 'vision models loaded', ...models, ms: Math.round(performance.now() - started) }),
      (error: unknown) => this.logger.error({ msg: 'vision models failed to load', ...models, err: error }),
    );
  }

  /** The models this process's jobs will use, or undefined when it should load none now. */
  modelsToLoad(): InspectOptions | undefined {
    if (this.config.get('jobs.role', { infer: true }) === 'api') return undefined;
    if (this.config.get('app.env', { infer: true }) === 'test') return undefined;
    const local = this.config.get('ai.provider', { infer: true }) === 'local';
    const models: InspectOptions = {
      objects: local,
      text: local,
      safety: this.config.get('moderation.provider', { infer: true }) === 'local',
    };
    return models.objects || models.safety ? models : undefined;
  }
}
