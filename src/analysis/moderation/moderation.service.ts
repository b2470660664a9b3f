import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config/config.types';
import { decide } from './moderation-policy';
import {
  MODERATION_PROVIDER,
  type Moderation,
  type ModerationImage,
  type ModerationProvider,
  type ModerationThresholds,
} from './moderation.types';

/**
 * Moderates every analysed image, whatever the vision provider (docs/api.md, "Moderation"): the
 * provider scores categories, MODERATION_REVIEW_AT / MODERATION_REJECT_AT turn them into a decision.
 * Provider failures propagate (UpstreamError): the caller decides whether a job fails on them.
 */
@Injectable()
export class ModerationService {
  private readonly thresholds: ModerationThresholds;

  constructor(
    @Inject(MODERATION_PROVIDER) private readonly provider: ModerationProvider,
    config: ConfigService<AppConfig, true>,
  ) {
    const { reviewAt, rejectAt } = config.get('moderation', { infer: true });
    this.thresholds = { reviewAt, rejectAt };
  }

  async moderate(image: ModerationImage): Promise<Moderation> {
    const categories = await this.provider.score(image);
    return { decision: decide(categories, this.thresholds), categories, provider: this.provider.name };
  }
}
