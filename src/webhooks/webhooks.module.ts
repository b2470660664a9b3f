import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Clock } from './clock';
import { WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookEndpoint } from './entities/webhook-endpoint.entity';
import { WebhookDeliveriesRepository } from './repositories/webhook-deliveries.repository';
import { WebhookEndpointsRepository } from './repositories/webhook-endpoints.repository';
import { WebhookEvents } from './webhook-events.service';

/**
 * Webhooks (CONTRACT §3.5): endpoints, deliveries, Standard Webhooks signing, SSRF-safe delivery.
 * Other rooms import this module and call `WebhookEvents.emit`.
 */
@Module({
  imports: [TypeOrmModule.forFeature([WebhookEndpoint, WebhookDelivery])],
  providers: [Clock, WebhookEndpointsRepository, WebhookDeliveriesRepository, WebhookEvents],
  exports: [WebhookEvents],
})
export class WebhooksModule {}
