import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { WebhookEventType } from '../webhook-events';

/**
 * A URL a user asked Argus to call back, the events it subscribed to, and its signing secret —
 * stored only encrypted (`secretCiphertext`, see SecretBox), never in clear.
 */
@Entity({ name: 'webhook_endpoints' })
@Index('IDX_webhook_endpoints_user_id_created_at', ['userId', 'createdAt', 'id'])
export class WebhookEndpoint {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'varchar', length: 2048 })
  url: string;

  @Column({ type: 'simple-json' })
  events: WebhookEventType[];

  @Column({ type: 'varchar', length: 256, nullable: true })
  description: string | null;

  /** `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts): AES-256-GCM of the `whsec_…` secret. */
  @Column({ name: 'secret_ciphertext', type: 'varchar', length: 256 })
  secretCiphertext: string;

  /** Start of the current run of failed attempts; null after a success (or before any attempt). */
  @Column({ name: 'failing_since', type: Date, nullable: true })
  failingSince: Date | null;

  /** Set when every attempt failed for 24 h: no more deliveries are made or queued. */
  @Column({ name: 'disabled_at', type: Date, nullable: true })
  disabledAt: Date | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;
}
