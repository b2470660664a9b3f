import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecretBox, SecretBoxPurpose } from '../common/crypto/secret-box';
import { AppConfig } from '../config/config.types';
import { MetricsModule } from '../metrics/metrics.module';
import { Clock } from './clock';
import { AddressGuard } from './delivery/address-guard';
import { WebhookDispatcher } from './delivery/webhook-dispatcher';
import { WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookEndpoint } from './entities/webhook-endpoint.entity';
import { WebhookDeliveriesRepository } from './repositories/webhook-deliveries.repository';
import { WebhookEndpointsRepository } from './repositories/webhook-endpoints.repository';
import { SecretResealer } from './secret-resealer';
import { WebhookEvents } from './webhook-events.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Endpoint signing secrets: keyed apart from anything else the app seals. */
const ENDPOINT_SECRETS: SecretBoxPurpose = { info: 'argus webhook endpoint secrets v1', format: 'v1' };

/**
 * Webhooks (docs/api.md, Webhooks): endpoints, deliveries, Standard Webhooks signing, SSRF-safe delivery
 * from a database poller (the same with or without Redis). Other rooms import this module and call
 * `WebhookEvents.emit`.
 */
@Module({
  imports: [TypeOrmModule.forFeature([WebhookEndpoint, WebhookDelivery]), MetricsModule],
  controllers: [WebhooksController],
  providers: [
    Clock,
    WebhookEndpointsRepository,
    WebhookDeliveriesRepository,
    WebhookEvents,
    WebhooksService,
    WebhookDispatcher,
    SecretResealer,
    {
      provide: AddressGuard,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) =>
        new AddressGuard(config.get('webhooks.allowPrivate', { infer: true })),
    },
    {
      provide: SecretBox,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const { secretKey } = config.get('webhooks', { infer: true });
        const { jwtSecret, jwtSecretGenerated, jwtSecretPrevious } = config.get('auth', { infer: true });
        if (!secretKey && jwtSecretGenerated) {
          new Logger(SecretBox.name).warn(
            'Neither WEBHOOK_SECRET_KEY nor JWT_SECRET is set: webhook secrets registered now cannot be read after a restart.',
          );
        }
        // The first seals; the others open what was sealed before (SecretResealer seals it again).
        return new SecretBox(
          [secretKey, jwtSecret, jwtSecretPrevious].filter((key) => key !== undefined),
          ENDPOINT_SECRETS,
        );
      },
    },
  ],
  exports: [WebhookEvents],
})
export class WebhooksModule {}
