import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboundHttpModule } from '../outbound-http/outbound-http.module';
import { OutboundHttpService } from '../outbound-http/outbound-http.service';
import { AppConfig } from '../config/config.types';
import { CacheModule } from '../cache/cache.module';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import { StorageModule } from '../storage/storage.module';
import { QuotaModule } from '../quota/quota.module';
import { CommonModule } from '../common/common.module';
import { JobsModule } from '../jobs/jobs.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AnalysisAnswers } from './analysis-answers';
import { AnalysisIntake } from './analysis-intake';
import { AnalysisOutcomes } from './analysis-outcomes';
import { AnalysisReplyInterceptor } from './analysis-reply.interceptor';
import { AnalysisWorker } from './analysis-worker';
import { BatchUploadInterceptor } from './upload/batch-upload';
import { AnalysesController } from './analyses.controller';
import { AnalysesService } from './analyses.service';
import { Analysis } from './entities/analysis.entity';
import { ImageProcessor } from './image-processor';
import { LocalVisionProvider } from './providers/local-vision.provider';
import { OpenAiVisionProvider } from './providers/openai-vision.provider';
import { VISION_PROVIDER, VisionProvider } from './providers/vision-provider';
import { AnalysesRepository } from './repositories/analyses.repository';
import { ImageUploadInterceptor } from './upload/image-upload.interceptor';
import { VisionModule } from '../vision/vision.module';
import { VisionService } from '../vision/vision.service';
import { ModerationModule } from './moderation/moderation.module';
import { NearDuplicateModule } from './near-duplicate/near-duplicate.module';

/**
 * Image analysis (docs/api.md, Image analysis): upload, normalisation, cached/single-flight vision analysis,
 * history. Every analysis is a job: AnalysisIntake accepts uploads, AnalysisWorker (a queue of the
 * JobsModule's runner) answers them. The vision provider is chosen by AI_PROVIDER; only the chosen
 * one is built.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([Analysis]),
    OutboundHttpModule,
    QuotaModule,
    StorageModule,
    CacheModule,
    MetricsModule,
    CommonModule,
    JobsModule,
    RateLimitModule,
    WebhooksModule,
    VisionModule,
    ModerationModule,
    NearDuplicateModule,
  ],
  controllers: [AnalysesController],
  providers: [
    AnalysesService,
    AnalysesRepository,
    AnalysisAnswers,
    AnalysisIntake,
    AnalysisOutcomes,
    AnalysisWorker,
    ImageUploadInterceptor,
    BatchUploadInterceptor,
    AnalysisReplyInterceptor,
    {
      provide: ImageProcessor,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) =>
        new ImageProcessor({
          maxInputPixels: config.get('limits.maxImagePixels', { infer: true }),
          maxEdge: config.get('ai.maxImageEdge', { infer: true }),
        }),
    },
    {
      provide: VISION_PROVIDER,
      inject: [ConfigService, OutboundHttpService, MetricsService, VisionService],
      useFactory: (
        config: ConfigService<AppConfig, true>,
        http: OutboundHttpService,
        metrics: MetricsService,
        vision: VisionService,
      ): VisionProvider =>
        config.get('ai.provider', { infer: true }) === 'openai'
          ? new OpenAiVisionProvider(http, metrics, config)
          : new LocalVisionProvider(vision),
    },
  ],
})
export class AnalysisModule {}
