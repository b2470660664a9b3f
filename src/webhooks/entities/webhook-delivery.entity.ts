import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { WebhookDeliveryType } from '../webhook-events';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One event for one endpoint: the source of truth of delivery. Inserted once per
 * (endpoint, dedupe key); the poller claims due `pending` rows, and every attempt of the row sends
 * the same `payload` under the same `webhook-id` (the row id).
 */
@Entity({ name: 'webhook_deliveries' })
@Index('UQ_webhook_deliveries_endpoint_dedupe', ['endpointId', 'dedupeKey'], { unique: true })
@Index('IDX_webhook_deliveries_endpoint_created_at', ['endpointId', 'createdAt', 'id'])
@Index('IDX_webhook_deliveries_due', ['status', 'nextAttemptAt'])
export class WebhookDelivery {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId: string;

  @Column({ name: 'event_type', type: 'varchar', length: 64 })
  eventType: WebhookDeliveryType;

  @Column({ name: 'dedupe_key', type: 'varchar', length: 255 })
  dedupeKey: string;

  /** The exact body sent (and signed) on every attempt: `{ type, timestamp, data }` as JSON text. */
  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'varchar', length: 16 })
  status: DeliveryStatus;

  /** Attempts started so far (a claim counts one before the request goes out). */
  @Column({ type: 'integer' })
  attempts: number;

  /** When the poller may take the row: the next attempt, or the end of a running attempt's lease. */
  @Column({ name: 'next_attempt_at', type: Date, nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_error', type: 'varchar', length: 512, nullable: true })
  lastError: string | null;

  /** At most 1 KiB of the last answer's body. */
  @Column({ name: 'last_response', type: 'text', nullable: true })
  lastResponse: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt: Date;
}
