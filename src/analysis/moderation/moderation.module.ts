import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config/config.types';
import { OutboundHttpModule } from '../../outbound-http/outbound-http.module';
import { OutboundHttpService } from '../../outbound-http/outbound-http.service';
import { VisionModule } from '../../vision/vision.module';
import { VisionService } from '../../vision/vision.service';
import { LocalModerationProvider } from './local-moderation.provider';
import { ModerationService } from './moderation.service';
import { MODERATION_PROVIDER, type ModerationProvider } from './moderation.types';
import { OpenAiModerationProvider } from './openai-moderation.provider';

/** Moderation of analysed images; the provider is chosen by MODERATION_PROVIDER. */
@Module({
  imports: [VisionModule, OutboundHttpModule],
  providers: [
    ModerationService,
    {
      provide: MODERATION_PROVIDER,
      inject: [ConfigService, VisionService, OutboundHttpService],
      useFactory: (
        config: ConfigService<AppConfig, true>,
        vision: VisionService,
        http: OutboundHttpService,
      ): ModerationProvider =>
        config.get('moderation.provider', { infer: true }) === 'openai'
          ? new OpenAiModerationProvider(http, config.get('ai', { infer: true }))
          : new LocalModerationProvider(vision),
    },
  ],
  exports: [ModerationService],
})
export class ModerationModule {}
