import { ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import type { AuthenticatedUser } from '../auth/auth.types';
import { ValidationFailedException } from '../common/errors/validation.exception';
import { AppConfig } from '../config/config.types';
import { Clock } from './clock';
import { AddressGuard, UnsafeWebhookUrlError } from './delivery/address-guard';
import type { CreateWebhookDto } from './dto/create-webhook.dto';
import type { CreatedWebhookDto, WebhookDeliveryDto, WebhookDeliveryPageDto, WebhookDto } from './dto/webhook.dto';
import type { WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookEndpoint } from './entities/webhook-endpoint.entity';
import { WebhookDeliveriesRepository } from './repositories/webhook-deliveries.repository';
import { WebhookEndpointsRepository } from './repositories/webhook-endpoints.repository';
import { SecretBox } from '../common/crypto/secret-box';
import { decodeCursor, encodeCursor } from '../common/pagination/keyset-cursor';
import { WEBHOOK_TEST_EVENT } from './webhook-events';
import { WebhookEvents } from './webhook-events.service';
import { generateSecret } from './webhook-signature';

/** One event fans out to every endpoint subscribed to it: a bound on what one user can make Argus send. */
export const MAX_ENDPOINTS_PER_USER = 20;

/** The endpoints and deliveries routes of docs/api.md, Webhooks. */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);
  private readonly httpsOnly: boolean;

  constructor(
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly events: WebhookEvents,
    private readonly guard: AddressGuard,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    config: ConfigService<AppConfig, true>,
  ) {
    this.httpsOnly = config.get('app.isProduction', { infer: true });
  }

  /** `POST /v1/webhooks`: the secret is in this answer and nowhere else. */
  async create(user: AuthenticatedUser, dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    const url = await this.checkUrl(dto.url);
    if ((await this.endpoints.countByUser(user.id)) >= MAX_ENDPOINTS_PER_USER) {
      throw new ValidationFailedException([
        { field: 'url', message: `at most ${MAX_ENDPOINTS_PER_USER} webhook endpoints per user; delete one first` },
      ]);
    }
    const secret = generateSecret();
    const id = randomUUID();
    const endpoint = Object.assign(new WebhookEndpoint(), {
      id,
      userId: user.id,
      url: url.href,
      events: dto.events,
      description: dto.description ?? null,
      secretCiphertext: this.secrets.seal(secret, id),
      failingSince: null,
      disabledAt: null,
      createdAt: this.clock.now(),
    });
    await this.endpoints.insert(endpoint);
    this.logger.log({ msg: 'webhook endpoint created', endpointId: id, events: dto.events, host: url.host });
    return { ...toView(endpoint), secret };
  }

  /** `GET /v1/webhooks` */
  async list(user: AuthenticatedUser): Promise<{ items: WebhookDto[] }> {
    return { items: (await this.endpoints.listByUser(user.id)).map(toView) };
  }

  /** `DELETE /v1/webhooks/:id`: its queued deliveries are dropped with it. */
  async remove(user: AuthenticatedUser, id: string): Promise<void> {
    if (!(await this.endpoints.deleteOwned(user.id, id))) throw notFound();
    this.logger.log({ msg: 'webhook endpoint deleted', endpointId: id });
  }

  /** `POST /v1/webhooks/:id/test`: queues a `webhook.test` delivery to this endpoint only. */
  async sendTest(user: AuthenticatedUser, id: string): Promise<{ deliveryId: string }> {
    const endpoint = await this.findOwned(user, id);
    if (endpoint.disabledAt) {
      throw new ConflictException(
        `This endpoint was disabled at ${endpoint.disabledAt.toISOString()} after 24 h of failed deliveries; ` +
          'delete it and register the URL again.',
      );
    }
    const dedupeKey = `test:${randomUUID()}`;
    const [deliveryId] = await this.events.enqueue([endpoint], WEBHOOK_TEST_EVENT, testData(endpoint), dedupeKey);
    return { deliveryId };
  }

  /** `GET /v1/webhooks/:id/deliveries` */
  async listDeliveries(
    user: AuthenticatedUser,
    id: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<WebhookDeliveryPageDto> {
    const endpoint = await this.findOwned(user, id);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    if (cursor !== undefined && !after) {
      throw new ValidationFailedException([{ field: 'cursor', message: 'cursor is not a nextCursor of this API' }]);
    }
    const rows = await this.deliveries.listByEndpoint(endpoint.id, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toDeliveryView),
      nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }

  /** The URL, parsed, when a webhook may be registered with it; a 400 naming the `url` field otherwise. */
  private async checkUrl(text: string): Promise<URL> {
    const url = new URL(text);
    if (this.httpsOnly && url.protocol !== 'https:') throw invalidUrl('must use https in production');
    try {
      await this.guard.resolve(url);
    } catch (error) {
      if (error instanceof UnsafeWebhookUrlError) throw invalidUrl(`is refused: ${error.message}`);
      throw error;
    }
    return url;
  }

  private async findOwned(user: AuthenticatedUser, id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.endpoints.findOwned(user.id, id);
    if (!endpoint) throw notFound();
    return endpoint;
  }
}

function invalidUrl(message: string): ValidationFailedException {
  return new ValidationFailedException([{ field: 'url', message: `url ${message}` }]);
}

function notFound(): NotFoundException {
  return new NotFoundException('No webhook endpoint with this id.');
}

function testData(endpoint: WebhookEndpoint): object {
  return { endpointId: endpoint.id, message: 'A test event from Argus: your endpoint received and can verify it.' };
}

function toView(endpoint: WebhookEndpoint): WebhookDto {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    disabledAt: endpoint.disabledAt?.toISOString() ?? null,
    createdAt: endpoint.createdAt.toISOString(),
  };
}

function toDeliveryView(delivery: WebhookDelivery): WebhookDeliveryDto {
  return {
    id: delivery.id,
    event: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    lastStatusCode: delivery.lastStatusCode,
    lastError: delivery.lastError,
    nextAttemptAt: delivery.status === 'pending' ? (delivery.nextAttemptAt?.toISOString() ?? null) : null,
    createdAt: delivery.createdAt.toISOString(),
  };
}
