import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from './clock';
import type { WebhookEndpoint } from './entities/webhook-endpoint.entity';
import { WebhookEndpointsRepository } from './repositories/webhook-endpoints.repository';
import { WebhookDeliveriesRepository } from './repositories/webhook-deliveries.repository';
import { DEDUPE_KEY_MAX_LENGTH, WebhookDeliveryType, WebhookEventType } from './webhook-events';

/**
 * The webhook room's door for other rooms: `emit` queues an event for every endpoint of the user
 * that subscribed to it. Queuing is a row per endpoint in `webhook_deliveries` (the source of
 * truth); the poller (WebhookDispatcher) delivers them, with or without Redis.
 */
@Injectable()
export class WebhookEvents {
  private readonly logger = new Logger(WebhookEvents.name);
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * Queues `{ type, timestamp, data }` for each of the user's enabled endpoints subscribed to
   * `type`. Idempotent by `dedupeKey` (at most 255 characters) per endpoint: emitting the same
   * key again — a job run twice after a crash — queues nothing new. Never waits for a delivery;
   * rejects when the dedupe key is empty or too long, or the database fails.
   */
  async emit(userId: string, type: WebhookEventType, data: object, dedupeKey: string): Promise<void> {
    const endpoints = await this.endpoints.findSubscribed(userId, type);
    await this.enqueue(endpoints, type, data, dedupeKey);
  }

  /**
   * Queues one event for the given endpoints (also `webhook.test`, which nobody subscribes to);
   * returns the ids of the deliveries it queued (none for a key already queued).
   */
  async enqueue(
    endpoints: readonly WebhookEndpoint[],
    type: WebhookDeliveryType,
    data: object,
    dedupeKey: string,
  ): Promise<string[]> {
    if (dedupeKey.length === 0 || dedupeKey.length > DEDUPE_KEY_MAX_LENGTH) {
      throw new RangeError(`dedupeKey must be 1–${DEDUPE_KEY_MAX_LENGTH} characters`);
    }
    if (endpoints.length === 0) return [];
    const now = this.clock.now();
    const payload = JSON.stringify({ type, timestamp: now.toISOString(), data });
    const queued = await this.deliveries.insertPending(
      endpoints.map((endpoint) => ({ endpointId: endpoint.id, eventType: type, dedupeKey, payload })),
      now,
      randomUUID,
    );
    for (const deliveryId of queued) {
      this.logger.log({ msg: 'webhook delivery queued', deliveryId, type, dedupeKey });
    }
    if (queued.length > 0) for (const listener of this.listeners) listener();
    return queued;
  }

  /** Called after new deliveries are queued (the dispatcher polls at once instead of waiting). */
  onQueued(listener: () => void): void {
    this.listeners.push(listener);
  }
}
